/// The host side of a character device: where the guest's output goes.
///
/// Each backend is real: a file, a pseudo-terminal, a unix socket, a ring
/// buffer in memory, or a sink. `close()` releases what it holds, as QEMU's
/// finalizers do (a listening unix socket's path is unlinked).
protocol ChardevBackend: AnyObject {
    /// What `query-chardev` shows as "filename".
    var filename: String { get }
    /// `{"pty": ...}` in chardev-add's and chardev-change's reply.
    var ptyPath: String? { get }
    /// Bytes the guest writes to the device.
    func write(_ bytes: [UInt8])
    func close()
    /// Closes, then `done` once what the close removes from the host is
    /// gone (a listening socket's file, removed on a worker).
    func close(then done: @escaping () -> Void)
}

extension ChardevBackend {
    var ptyPath: String? { nil }
    func close(then done: @escaping () -> Void) {
        close()
        done()
    }
}

/// Backends that swallow output: `null`, and the QEMU backends whose other
/// end is a UI we do not have (msmouse, wctablet, testdev, vc, stdio,
/// qemu-vdagent, spicevmc, dbus).
final class SinkBackend: ChardevBackend {
    let filename: String
    /// `filename` is what `query-chardev` shows, the kind unless QEMU shows more.
    init(kind: String, filename: String? = nil) { self.filename = filename ?? kind }
    func write(_ bytes: [UInt8]) {}
    func close() {}
}
