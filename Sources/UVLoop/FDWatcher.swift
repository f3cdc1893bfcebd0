import CUV

/// Readiness of a file descriptor on the loop (libuv's `uv_poll_t`).
///
/// The building block of our sockets, which need `recvmsg` for passed file
/// descriptors and so cannot use `uv_pipe_t`; plugins use it too, through
/// the host, for real chardev sockets and ptys. The fd stays the caller's.
public final class FDWatcher: LoopHandle {
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int32(UV_READABLE.rawValue))
        public static let writable = Events(rawValue: Int32(UV_WRITABLE.rawValue))
        public static let disconnect = Events(rawValue: Int32(UV_DISCONNECT.rawValue))
    }

    private var handle: UnsafeMutablePointer<uv_poll_t>?
    /// Called with the ready events, or with `failed: true` when libuv
    /// reports an error on the fd (it has then stopped watching).
    private var callback: ((Events, Bool) -> Void)?
    public private(set) var events: Events = []
    public let fd: Int32
    /// The object this watcher works for (a connection, a listener): when
    /// the loop closes everything, closing it closes its fd and file too.
    /// `unowned`, not `weak`: every user's callback holds it strongly until
    /// it closes the watcher, so it is alive whenever the loop can walk to
    /// an open watcher; and a weak reference would give every connection a
    /// side table for good, which puts each of its retains and releases on
    /// the slow path (an event to 1,000 clients retains each connection
    /// several times: docs/performance.md, "One event to 1,000 clients").
    unowned var user: (any LoopHandle)?

    public init(loop: EventLoop, fd: Int32, _ callback: @escaping (_ events: Events, _ failed: Bool) -> Void) throws {
        self.fd = fd
        let h = HandleMemory.allocate(uv_poll_t.self)
        let rc = uv_poll_init(loop.raw, h, fd)
        if rc < 0 {
            h.deallocate()
            throw UVError(code: rc, operation: "uv_poll_init(fd \(fd))")
        }
        HandleMemory.retain(self, in: h.asHandle)
        handle = h
        self.callback = callback
    }

    /// Watches for `events` (empty: stop watching without closing).
    public func watch(_ events: Events) {
        guard let handle, events != self.events else { return }
        self.events = events
        if events.isEmpty {
            uv_poll_stop(handle)
            return
        }
        uv_poll_start(handle, events.rawValue) { h, status, ready in
            guard let watcher = HandleMemory.owner(h?.asHandle, as: FDWatcher.self) else { return }
            if status < 0 { watcher.events = [] }
            watcher.callback?(Events(rawValue: ready), status < 0)
        }
    }

    public var isClosed: Bool { handle == nil }

    /// Stops watching; the handle's memory goes in its close callback.
    public func close() {
        guard let h = handle else { return }
        handle = nil
        callback = nil
        events = []
        uv_poll_stop(h)
        HandleMemory.close(h.asHandle)
    }
}
