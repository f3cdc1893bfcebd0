import QMPPluginABI
import QMPWire

/// Opening a file a client named without blocking the VM's loop: the
/// kernel ignores `O_NONBLOCK` for the lookup and open of a file on FUSE
/// or NFS, so an open there waits as long as the server does, and every
/// VM of the loop with it. The host's `open_file_async` runs the same
/// policy as `openFile` on a worker thread and calls back on the loop.
extension PluginVM {
    /// Opens `path` as `openFile(_:flags:mode:)` does, then calls `done` on
    /// the VM's loop thread with the descriptor (now yours) or QEMU's text.
    /// For the request `reply` answers: when that request was answered or
    /// timed out meanwhile, or the VM ended, the host closes the
    /// descriptor and `done` is not called. "fd:NAME" and "/dev/fdset/N"
    /// are taken at once (`done` runs before this returns), but for an fd
    /// set's descriptor the open truncates, which is truncated on a worker
    /// (an `ftruncate` waits on a hung mount as an open does). A host without
    /// `open_file_async` (ABI revision < 7) opens in place.
    ///
    /// `cancelled` runs instead of `done` then, on the loop, so a plugin
    /// that marked something busy for the open (a dump in process, a
    /// chardev id being added) clears it: left set, it refused every later
    /// command of its kind for the VM's life.
    public func openFile(_ path: String, flags: Int32, mode: UInt32 = 0o600, for reply: Reply?,
                         cancelled: (() -> Void)? = nil,
                         then done: @escaping (Result<Int32, QMPError>) -> Void) {
        let api = PluginHostLink.api!
        let offset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.open_file_async) ?? Int.max
        guard Int(api.pointee.struct_size) >= offset + MemoryLayout<qmp_open_done_fn?>.size,
              let open = api.pointee.open_file_async else {
            return done(openFile(path, flags: flags, mode: mode))
        }
        let box = Unmanaged.passRetained(OpenBox(done, cancelled: cancelled)).toOpaque()
        let rc = open(handle, reply?.token ?? 0, path, flags, Int32(mode), { instance, fd, error, opaque in
            let box = Unmanaged<OpenBox>.fromOpaque(opaque!).takeRetainedValue()
            guard instance != nil else {
                box.cancelled?()
                return
            }
            box.done(fd >= 0 ? .success(fd) : .failure(.generic(error.map { String(cString: $0) } ?? "Could not open file")))
        }, box)
        if rc != 0 {
            Unmanaged<OpenBox>.fromOpaque(box).release()
            done(.failure(.generic("Could not open '\(path)': the host refused the call")))
        }
    }
}

/// One `openFile(…, then:)`'s continuation, held until the host calls back.
private final class OpenBox {
    let done: (Result<Int32, QMPError>) -> Void
    let cancelled: (() -> Void)?
    init(_ done: @escaping (Result<Int32, QMPError>) -> Void, cancelled: (() -> Void)?) {
        self.done = done
        self.cancelled = cancelled
    }
}
