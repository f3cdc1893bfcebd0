import CUV
import SharedValues

/// Gives the C heap's free pages back to the kernel every so often.
///
/// glibc keeps what a program frees for its next allocations, and returns
/// memory to the kernel by itself only from the top of a heap. A fleet's
/// bursts (a 500,000-key object parsed and refused, thousands of
/// connections opened and closed, devices hot-plugged and removed) leave
/// free chunks between live ones, so a long hostile run kept growing
/// although what it held did not: in the 1,000-VM hostile soak RSS went
/// from 128 to 139 MB over two minutes, and one malloc_trim(0) then took
/// it from 146 to 99 MB.
///
/// `malloc_trim(0)` walks every arena under its lock and madvises the free
/// pages away; it runs on the thread pool, never on a loop thread, one at
/// a time, and only when the arenas hold at least `worthTrimming` free
/// bytes (`mallinfo2`), as after a burst. A loop thread that allocates
/// meanwhile may wait for an arena's lock for as long as that arena takes:
/// trims took 0 to 25 ms (76 ms once) in the hostile soak on 2 loaded
/// cores, and the probes' query-status p99 was no worse than without
/// (`docs/performance.md`).
public final class HeapTrimmer {
    /// Free bytes in the arenas below which a trim is not worth its locks.
    public static let worthTrimming = 16 << 20

    private let loop: EventLoop
    private let timer: LoopTimer
    private let trimmed: (Duration) -> Void
    private var trimming = false

    /// Trims every `intervalMilliseconds`, first after one interval, until
    /// `stop()` or the loop's end (the timer holds the trimmer: a caller
    /// need not); `trimmed` gets how long each trim took (zero: it found
    /// too little free to trim), on the loop thread. Loop thread only.
    public init(loop: EventLoop, intervalMilliseconds: UInt64, trimmed: @escaping (Duration) -> Void = { _ in }) {
        self.loop = loop
        self.trimmed = trimmed
        timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: intervalMilliseconds, repeatEvery: intervalMilliseconds) { self.trim() }
    }

    /// Bytes of free memory glibc keeps at a heap's top rather than give
    /// back at once (`keepFreedMemory`).
    public static let keptAtTop = 8 << 20
    /// Allocations from this size on are mappings of their own.
    public static let ownMappingFrom = 4 << 20

    /// Lets glibc keep what a large message's buffers free for the next
    /// one, since the trimmer gives it back later: by default glibc returns
    /// a heap's top (and any block over its mmap threshold) to the kernel
    /// on `free`, so a 1 MiB string's growing parser buffer was new pages
    /// every time, and page faults, `brk` and the copies into fresh memory
    /// were 60 % of the request (2.0 ms; 0.55 ms with these, docs/performance.md).
    /// At most `keptAtTop` per heap waits for the trimmer. Call once,
    /// before the loops start (the settings are the process's).
    public static func keepFreedMemory() {
        cuv_malloc_thresholds(Int32(keptAtTop), Int32(ownMappingFrom))
    }

    /// Stops trimming (a trim on the pool ends by itself).
    public func stop() { timer.close() }

    private func trim() {
        guard !trimming else { return }
        trimming = true
        let took = Locked(Duration.zero)
        loop.offload({
            let clock = ContinuousClock()
            let start = clock.now
            guard cuv_malloc_free_bytes() >= HeapTrimmer.worthTrimming else { return }
            _ = cuv_malloc_trim()
            took.withLock { $0 = clock.now - start }
        }, then: {
            self.trimming = false
            self.trimmed(took.withLock { $0 })
        })
    }
}
