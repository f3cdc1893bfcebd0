#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// Builds a chardev's backend from a `ChardevBackend` union value, as
/// QEMU's `qemu_char_open` does: the log file first, then the backend. On
/// failure, whatever this attempt created is removed again and the error
/// is the bare reason (callers add "Failed to add chardev ..." as QEMU does).
struct ChardevOpener {
    let vm: PluginVM

    /// Linux O_PATH (not exported by Glibc's Swift overlay): open for a
    /// lookup only, which creates nothing.
    static let pathOnly: Int32 = 0o10000000

    /// The backend kinds served, in `query-chardev-backends` order.
    static let supportedKinds = ["pty", "file", "memory", "socket", "msmouse", "null", "qemu-vdagent", "ringbuf", "stdio",
                                 "testdev", "vc", "wctablet"]

    /// Opens the chardev at once: for the config and an incoming migration.
    func open(id: String, _ backend: QAPI.ChardevBackend) -> Result<Chardev, QMPError> {
        var result: Result<Chardev, QMPError> = .failure(.generic("Could not open chardev '\(id)'"))
        open(id: id, backend, with: .now(vm)) { result = $0 }
        return result
    }

    /// Opens the chardev for a client's command: its files off the loop,
    /// then `done` on the loop (not called when the request or VM ended).
    func open(id: String, _ backend: QAPI.ChardevBackend, for reply: Reply, then done: @escaping (Result<Chardev, QMPError>) -> Void) {
        open(id: id, backend, with: .offLoop(vm, for: reply), then: done)
    }

    private func open(id: String, _ backend: QAPI.ChardevBackend, with opener: ChardevFiles.Opener,
                      then done: @escaping (Result<Chardev, QMPError>) -> Void) {
        let kind = backend.type.rawValue
        guard ChardevOpener.supportedKinds.contains(kind) else {
            return done(.failure(.generic("'\(kind)' is not a valid char driver name")))
        }
        ChardevFiles.open(for: backend, with: opener) { [vm] opened in
            switch opened {
            case .failure(let error): done(.failure(error))
            case .success(let files): done(ChardevOpener(vm: vm).build(id: id, backend, files))
            }
        }
    }

    /// The backend over the files already open; on failure they are discarded.
    private func build(id: String, _ backend: QAPI.ChardevBackend, _ files: ChardevFiles) -> Result<Chardev, QMPError> {
        switch openBackend(backend, files) {
        case .failure(let error):
            files.discard()
            return .failure(error)
        case .success(let opened):
            return .success(Chardev(id: id, backend: opened, log: files.log.map { FileWriter(vm: vm, fd: $0.fd) }, spec: backend))
        }
    }

    private func openBackend(_ backend: QAPI.ChardevBackend, _ files: ChardevFiles) -> Result<any ChardevBackend, QMPError> {
        switch backend.variant {
        case .file:
            guard let out = files.out else { return .failure(.generic("chardev: file backend without its file")) }
            return .success(FileBackend(vm: vm, outFD: out.fd, inFD: files.input))
        case .pty: return PtyBackend.open(vm: vm).map { $0 as any ChardevBackend }
        case .socket(let socket): return openSocket(socket.data)
        case .ringbuf(let ring), .memory(let ring): return openRingbuf(backend.type.rawValue, ring.data)
        default: return .success(SinkBackend(kind: backend.type.rawValue))
        }
    }

    private func openSocket(_ data: QAPI.ChardevSocket) -> Result<any ChardevBackend, QMPError> {
        guard case .unix(let unix) = data.addr.variant else {
            return .failure(.generic("socket chardevs are served on unix paths only in this simulator"))
        }
        let path = unix.data.path
        // QEMU's default for chardev-add: a server, unless told otherwise.
        let isServer = data.server ?? true
        let reconnect = data.reconnect ?? 0
        if isServer && reconnect > 0 {
            return .failure(.generic("'reconnect' option is incompatible with socket in server listen mode"))
        }
        if let denied = SocketPath.isDescriptorName(path) ? SocketPathError.denied.text : deniedPath(path) {
            return .failure(.generic(isServer ? "Failed to bind socket to \(path): \(denied)" : "Failed to connect to '\(path)': \(denied)"))
        }
        let result = isServer ? SocketBackend.listen(vm: vm, path: path) : SocketBackend.connect(vm: vm, path: path, reconnect: reconnect)
        return result.map { $0 as any ChardevBackend }
    }

    /// A socket path outside the directories the VM may create files in
    /// (the socket directory is never one): the reason, else nil. Probed
    /// through the VM's own file policy without creating anything; only a
    /// path that is not there yet (ENOENT) or opens passes, any other
    /// failure denies.
    private func deniedPath(_ path: String) -> String? {
        switch vm.openFile(path, flags: ChardevOpener.pathOnly | O_NOFOLLOW) {
        case .success(let fd):
            HostFile.closeFD(fd)
            return nil
        case .failure(let error):
            let missing = String(cString: strerror(ENOENT))
            if error.desc.hasSuffix(": \(missing)") { return nil }
            let reason = error.desc.ranges(of: "': ").last.map { String(error.desc[$0.upperBound...]) }
            return reason ?? String(cString: strerror(EACCES))
        }
    }

    private func openRingbuf(_ kind: String, _ data: QAPI.ChardevRingbuf) -> Result<any ChardevBackend, QMPError> {
        let size = data.size ?? RingbufBackend.defaultSize
        guard size >= 0, size & (size &- 1) == 0 else {
            return .failure(.generic("size of ringbuf chardev must be power of two"))
        }
        guard size <= RingbufBackend.maximumSize else {
            return .failure(.generic("size of ringbuf chardev must not exceed \(RingbufBackend.maximumSize)"))
        }
        return .success(RingbufBackend(kind: kind, size: Int(size)))
    }

    /// QEMU says "Could not create" for a log file it cannot open.
    static func createText(_ openText: String) -> String {
        openText.hasPrefix("Could not open") ? "Could not create" + openText.dropFirst("Could not open".count) : openText
    }
}
