import CUV
import SharedValues

/// One libuv loop, run by one thread.
///
/// Everything that uses a loop is confined to its thread, except
/// `execute(_:)`, which any thread may call to run work on the loop.
/// (`@unchecked Sendable` because of that one door; the rest of the type
/// is only ever touched by the loop thread.)
///
/// ```swift
/// let loop = try EventLoop()
/// LoopTimer(loop: loop).start(afterMilliseconds: 10) { loop.stop() }
/// loop.run()
/// ```
public final class EventLoop: @unchecked Sendable {
    let raw: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let inbox = Locked(Inbox())
    private var stopping = false
    /// The read buffer all connections of this loop share: reads happen one
    /// at a time on the loop thread, so one buffer serves them all.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// The `recvmsg` control buffer, shared the same way.
    let controlBuffer: UnsafeMutableRawBufferPointer
    /// Connections' output of this turn, sent when the turn's callbacks are done.
    let deferredFlushes: DeferredFlushes
    /// This turn's events, copied once for all the connections that send them.
    let turnEvents = TurnEventBuffer()
    /// Writes this loop hands to each other loop (`CrossLoopWriter`), by
    /// target; made at the first. Each holds its target: the map is
    /// emptied when the loop stops, so two loops that write for each
    /// other do not keep each other alive after.
    private var handoffs: [ObjectIdentifier: WriteHandoff] = [:]
    /// Work waiting for the loop's next poll for I/O (`afterNextPoll`).
    private let nextTurn: NextTurnQueue
    /// The spare descriptor this loop's listeners shed connections with
    /// when the process is out of descriptors.
    let descriptorReserve = DescriptorReserve()
    /// The epoll set this loop's listening sockets are watched in; made at
    /// the first (`listenerPoll()`), again after the loop closed it.
    private var ownListenerPoll: ListenerPoll?

    /// The loop's `ListenerPoll`. Loop thread only.
    func listenerPoll() throws -> ListenerPoll {
        if let poll = ownListenerPoll, poll.isOpen { return poll }
        let poll = try ListenerPoll(loop: self)
        ownListenerPoll = poll
        return poll
    }
    /// The pipe `DescriptorTransfer` splices through: made with the loop
    /// (2 descriptors per loop, counted in the process's baseline, not
    /// seen as growth when the first transfer comes), again when that
    /// failed (no descriptors then).
    private var ownSplicePipe: SplicePipe? = SplicePipe()
    var splicePipe: SplicePipe? {
        if ownSplicePipe == nil { ownSplicePipe = SplicePipe() }
        return ownSplicePipe
    }

    /// Work handed in by other threads. `isOpen` turns false, under the same
    /// lock `execute` sends with, before the wake-up handle starts closing, so
    /// no thread signals a closed handle.
    private struct Inbox {
        var work: [@Sendable () -> Void] = []
        var isOpen = true
    }

    public init() throws {
        raw = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let rc = uv_loop_init(raw)
        if rc < 0 {
            raw.deallocate()
            throw UVError(code: rc, operation: "uv_loop_init")
        }
        wakeup = HandleMemory.allocate(uv_async_t.self)
        deferredFlushes = DeferredFlushes(loop: raw)
        nextTurn = NextTurnQueue(loop: raw)
        readBuffer = .allocate(byteCount: UnixConnection.readChunk, alignment: 16)
        controlBuffer = .allocate(
            byteCount: cuv_cmsg_space(MemoryLayout<Int32>.size * UnixConnection.maxFileDescriptorsPerMessage),
            alignment: MemoryLayout<cmsghdr>.alignment)
        // Cannot fail on Linux (it only reuses the loop's internal eventfd).
        uv_async_init(raw, wakeup) { async in
            guard let loop = HandleMemory.owner(async?.asHandle, as: EventLoop.self) else { return }
            loop.drainInbox()
        }
        // Not retained: the loop owns its wake-up handle, not the other way round.
        wakeup.pointee.data = Unmanaged.passUnretained(self as AnyObject).toOpaque()
        // The wake-up alone does not keep `run()` going.
        uv_unref(wakeup.asHandle)
    }

    /// Closes whatever is still open and frees the loop. Runs on whichever
    /// thread drops the last reference, which must not be inside `run()`.
    deinit {
        closeWakeup()
        closeAllHandles()
        // Close callbacks run within one non-blocking turn.
        uv_run(raw, UV_RUN_NOWAIT)
        if uv_loop_close(raw) == 0 { raw.deallocate() }
        readBuffer.deallocate()
        controlBuffer.deallocate()
    }

    /// Runs until `stop()` or until nothing is left to wait for.
    public func run() {
        uv_run(raw, UV_RUN_DEFAULT)
    }

    /// Runs until `stop()`, even while nothing is open: a loop that other
    /// threads hand work to (a shard of the fleet with no VMs yet) must be
    /// there when the work arrives.
    public func runUntilStopped() {
        uv_ref(wakeup.asHandle)
        uv_run(raw, UV_RUN_DEFAULT)
    }

    /// One turn: waits for at least one event and handles what is ready.
    /// For callers that drive the loop themselves until their own condition
    /// holds (the benchmark's clients), where `stop()` would end it for good.
    public func runOnce() {
        uv_run(raw, UV_RUN_ONCE)
    }

    /// Loop thread only: closes every handle (the loop's own wake-up too) and
    /// lets `run()` return. Work `execute`d afterwards is dropped.
    public func stop() {
        guard !stopping else { return }
        stopping = true
        closeAllHandles()
        handoffs.removeAll()
        uv_stop(raw)
    }

    /// Milliseconds of the loop's monotonic clock.
    public var nowMilliseconds: UInt64 {
        uv_update_time(raw)
        return uv_now(raw)
    }

    /// Loop thread only: runs `work` once the loop has polled for I/O again
    /// (after the other connections' ready callbacks), in the order of calls:
    /// how a busy client's rest of work yields to everybody else. Dropped
    /// when the loop stops.
    public func afterNextPoll(_ work: @escaping () -> Void) {
        nextTurn.add(work)
    }

    /// Loop thread only: where this turn's writes for `target`'s
    /// `CrossLoopWriter`s gather.
    func handoff(to target: EventLoop) -> WriteHandoff {
        if let handoff = handoffs[ObjectIdentifier(target)] { return handoff }
        let handoff = WriteHandoff(target: target, flushes: deferredFlushes)
        handoffs[ObjectIdentifier(target)] = handoff
        return handoff
    }

    /// Thread-safe: runs `work` on the loop thread soon, in the order of calls.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { inbox in
            guard inbox.isOpen else { return }
            inbox.work.append(work)
            uv_async_send(wakeup)
        }
    }

    private func drainInbox() {
        let work = inbox.withLock { inbox -> [@Sendable () -> Void] in
            defer { inbox.work.removeAll(keepingCapacity: true) }
            return inbox.work
        }
        for item in work { item() }
    }

    /// Runs `work` on libuv's thread pool, then `completion` on the loop
    /// thread: for file I/O a command needs (dumps, screendumps).
    public func offload(_ work: @escaping @Sendable () -> Void, then completion: @escaping () -> Void) {
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.initialize(to: uv_work_t())
        let item = Unmanaged.passRetained(WorkItem(work: work, completion: completion))
        request.pointee.data = item.toOpaque()
        let rc = uv_queue_work(raw, request, { request in
            guard let data = request?.pointee.data else { return }
            Unmanaged<WorkItem>.fromOpaque(data).takeUnretainedValue().work()
        }, { request, _ in
            // Also reached with UV_ECANCELED; the completion runs either way.
            guard let request, let data = request.pointee.data else { return }
            let item = Unmanaged<WorkItem>.fromOpaque(data).takeRetainedValue()
            request.deallocate()
            item.completion()
        })
        if rc < 0 {
            // Only possible with a null callback; never block the loop for it.
            item.release()
            request.deallocate()
            completion()
        }
    }

    /// Closes every open handle: each owner's own close path runs (a
    /// connection closes its fd, a listener removes its socket file), and
    /// memory is freed in the close callbacks.
    public func closeAllHandles() {
        uv_walk(raw, { handle, _ in
            guard let handle, uv_is_closing(handle) == 0 else { return }
            guard let data = handle.pointee.data else { return }
            let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue()
            if let watcher = owner as? FDWatcher, let user = watcher.user {
                user.close()
            } else if let owner = owner as? any LoopHandle {
                owner.close()
            } else if let loop = owner as? EventLoop {
                loop.closeWakeup()
            }
        }, nil)
    }

    private func closeWakeup() {
        let (wasOpen, pending) = inbox.withLock { inbox -> (Bool, [@Sendable () -> Void]) in
            defer {
                inbox.isOpen = false
                inbox.work.removeAll()
            }
            return (inbox.isOpen, inbox.work)
        }
        // Once closed the handle's memory may be gone: never touch it again.
        guard wasOpen else { return }
        wakeup.pointee.data = nil
        // Work that arrived before the door shut still runs.
        for item in pending { item() }
        uv_close(wakeup.asHandle) { $0?.deallocate() }
    }
}

/// One `offload` in flight.
private final class WorkItem {
    let work: @Sendable () -> Void
    let completion: () -> Void
    init(work: @escaping @Sendable () -> Void, completion: @escaping () -> Void) {
        self.work = work
        self.completion = completion
    }
}
