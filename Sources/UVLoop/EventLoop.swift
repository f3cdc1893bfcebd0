import CUV
import Synchronization

/// One libuv loop, run by one thread.
///
/// Everything that uses a loop is confined to its thread, except
/// `execute(_:)`, which any thread may call to run work on the loop.
///
/// ```swift
/// let loop = try EventLoop()
/// LoopTimer(loop: loop).start(afterMilliseconds: 10) { loop.stop() }
/// loop.run()
/// ```
public final class EventLoop: @unchecked Sendable {
    let raw: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private var stopping = false

    public init() throws {
        raw = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        try check(uv_loop_init(raw), "uv_loop_init")
        wakeup = HandleMemory.allocate(uv_async_t.self)
        try check(uv_async_init(raw, wakeup) { async in
            guard let loop = HandleMemory.owner(async?.asHandle, as: EventLoop.self) else { return }
            loop.drainInbox()
        }, "uv_async_init")
        // The async handle holds the loop weakly: it is not a reference cycle
        // worth keeping the loop alive for, and it is closed in stop().
        wakeup.pointee.data = Unmanaged.passUnretained(self as AnyObject).toOpaque()
        uv_unref(wakeup.asHandle)
    }

    deinit {
        if uv_loop_close(raw) == 0 { raw.deallocate() }
    }

    /// Runs until `stop()` or until nothing is left to wait for.
    public func run() {
        uv_run(raw, UV_RUN_DEFAULT)
    }

    /// Loop thread only: closes every handle and lets `run()` return.
    public func stop() {
        guard !stopping else { return }
        stopping = true
        closeAllHandles()
        uv_stop(raw)
    }

    /// Milliseconds of the loop's monotonic clock.
    public var nowMilliseconds: UInt64 {
        uv_update_time(raw)
        return uv_now(raw)
    }

    /// Thread-safe: runs `work` on the loop thread soon.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(work) }
        uv_async_send(wakeup)
    }

    private func drainInbox() {
        let work = inbox.withLock { items -> [@Sendable () -> Void] in
            defer { items.removeAll() }
            return items
        }
        for item in work { item() }
    }

    /// Runs `work` on libuv's thread pool, then `completion` on the loop
    /// thread: for file I/O a command needs (dumps, screendumps).
    public func offload(_ work: @escaping @Sendable () -> Void, then completion: @escaping () -> Void) {
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.initialize(to: uv_work_t())
        request.pointee.data = Unmanaged.passRetained(WorkItem(work: work, completion: completion)).toOpaque()
        let rc = uv_queue_work(raw, request, { request in
            guard let data = request?.pointee.data else { return }
            Unmanaged<WorkItem>.fromOpaque(data).takeUnretainedValue().work()
        }, { request, _ in
            guard let request, let data = request.pointee.data else { return }
            let item = Unmanaged<WorkItem>.fromOpaque(data).takeRetainedValue()
            request.deallocate()
            item.completion()
        })
        if rc < 0 {
            Unmanaged<WorkItem>.fromOpaque(request.pointee.data!).release()
            request.deallocate()
            work()
            completion()
        }
    }

    /// Closes every open handle: each owner's close path runs.
    public func closeAllHandles() {
        uv_walk(raw, { handle, _ in
            guard let handle, uv_is_closing(handle) == 0 else { return }
            if let owner = HandleMemory.owner(handle, as: AnyObject.self) as? any LoopHandle {
                owner.close()
            } else if handle.pointee.type == UV_ASYNC {
                // The loop's own wake-up handle: not retained, just freed.
                handle.pointee.data = nil
                uv_close(handle) { $0?.deallocate() }
            }
        }, nil)
    }
}

private final class WorkItem {
    let work: @Sendable () -> Void
    let completion: () -> Void
    init(work: @escaping @Sendable () -> Void, completion: @escaping () -> Void) {
        self.work = work
        self.completion = completion
    }
}
