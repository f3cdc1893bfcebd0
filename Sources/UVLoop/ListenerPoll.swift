#if canImport(Glibc)
import Glibc
#endif
import CUV

/// A loop's listening unix sockets, in one epoll set of their own that the
/// loop polls as a single descriptor.
///
/// A `uv_poll_t` per listening socket cost four `epoll_ctl` calls to start:
/// `uv_poll_init` adds and removes the descriptor to check it can be
/// polled, `uv_poll_start` removes it again (it stops before it starts),
/// and the loop's next poll adds it for good. For 10,000 VMs that was
/// 40,000 calls of a start's 100,000 (`strace -c`, docs/performance.md,
/// "VM creation (session 12)"). Here a listener costs one `epoll_ctl` to
/// add and one to remove, no libuv handle, and no watcher object of its
/// own; when the set is readable, the ready listeners are taken from it
/// without waiting and each accepts what it can (`UnixListener`).
///
/// The set is level-triggered, as `uv_poll_t` is: a listener that still has
/// connections waiting after its accepts is reported again on the next
/// turn. The loop's poll handle on the set is active only while some
/// listener is being watched, so a loop with none (all closed, or all
/// paused after running out of descriptors, whose timers then keep it
/// running) is not kept alive by it, as a stopped `uv_poll_t` is not.
///
/// Loop-confined, made at the loop's first listener (`EventLoop.listenerPoll`).
final class ListenerPoll: LoopHandle {
    /// Ready listeners taken from the set per wake-up; more wait for the next.
    static let readyPerWakeup: Int32 = 64

    private let epollFD: Int32
    private var watcher: FDWatcher?
    /// The listeners in the set, by descriptor (a number: hashed cheaply,
    /// and an event for a listener closed meanwhile finds nothing).
    private var listeners: [Int32: UnixListener] = [:]
    /// Listeners in the set that are being watched (not paused).
    private var watching = 0

    init(loop: EventLoop) throws {
        epollFD = cuv_epoll_create()
        guard epollFD >= 0 else { throw UVError.errno("epoll_create1") }
        do {
            // The watcher's closure holds the set while it is open.
            watcher = try FDWatcher(loop: loop, fd: epollFD) { _, failed in
                if !failed { self.acceptReady() }
            }
        } catch {
            Glibc.close(epollFD)
            throw error
        }
        watcher?.user = self
    }

    /// Until `close()`.
    var isOpen: Bool { watcher != nil }

    /// Adds `listener`, listening on `fd`, watched for connections.
    func add(_ listener: UnixListener, fd: Int32) throws(UVError) {
        guard isOpen else { throw UVError(code: -EBADF, operation: "listening on fd \(fd): the loop has closed its listeners") }
        guard cuv_epoll_add(epollFD, fd) == 0 else { throw UVError.errno("epoll_ctl(add listener fd \(fd))") }
        listeners[fd] = listener
        watching += 1
        if watching == 1 { watcher?.watch(.readable) }
    }

    /// Stops or resumes watching `fd`, which stays in the set.
    func watch(_ fd: Int32, _ on: Bool) {
        guard listeners[fd] != nil, cuv_epoll_watch(epollFD, fd, on ? 1 : 0) == 0 else { return }
        watching += on ? 1 : -1
        watcher?.watch(watching > 0 ? .readable : [])
    }

    /// Takes `fd` out of the set, before its listener closes it; `watched`
    /// says whether it was being watched.
    func remove(_ fd: Int32, watched: Bool) {
        guard listeners.removeValue(forKey: fd) != nil else { return }
        _ = cuv_epoll_remove(epollFD, fd)
        if watched {
            watching -= 1
            if watching == 0 { watcher?.watch([]) }
        }
    }

    private func acceptReady() {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Int(Self.readyPerWakeup)) { ready in
            let count = cuv_epoll_ready(epollFD, ready.baseAddress, Self.readyPerWakeup)
            guard count > 0 else { return }
            for index in 0..<Int(count) {
                // A listener closed by one before it in this batch is gone.
                listeners[ready[index]]?.acceptAvailable()
            }
        }
    }

    /// Closes every listener in the set (each removes its socket file) and
    /// the set itself: the loop's `closeAllHandles`. Idempotent.
    func close() {
        guard let watcher else { return }
        for listener in Array(listeners.values) { listener.close() }
        watcher.close()
        self.watcher = nil
        Glibc.close(epollFD)
    }
}
