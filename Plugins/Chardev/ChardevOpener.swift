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
    /// The VM's chardevs by id, for a mux's base (looked up when the mux
    /// is made, on the loop, after its log file opened, as in QEMU).
    var find: (String) -> Chardev? = { _ in nil }

    /// Linux O_PATH (not exported by Glibc's Swift overlay): open for a
    /// lookup only, which creates nothing.
    static let pathOnly: Int32 = 0o10000000

    /// The channel types QEMU 7.2's spice accepts for `spicevmc`
    /// (`spice_server_char_device_recognized_subtypes` on this machine).
    static let spiceChannelTypes: Set<String> = ["vdagent", "smartcard", "usbredir"]

    /// brltty's socket, which QEMU's `braille` backend (brlapi) connects to.
    static let brailleSocket = "/var/lib/BrlAPI/0"

    /// The chardev the config or an incoming migration makes: at once,
    /// with what fails before any host path is touched (a ringbuf's size,
    /// a server that reconnects) refused at once too; what it opens is
    /// opened off the loop meanwhile (`PendingBackend`), and a failure
    /// there logged.
    func openDeferred(id: String, _ backend: QAPI.ChardevBackend) -> Result<Chardev, QMPError> {
        var immediate: Result<Chardev, QMPError>?
        var pending: (chardev: Chardev, backend: PendingBackend)?
        open(id: id, backend, with: .offLoop(vm, for: nil)) { [vm] opened in
            guard let pending else { return immediate = opened }
            pending.backend.resolve(pending.chardev, with: opened, vm: vm)
        }
        if let immediate { return immediate }
        let placeholder = PendingBackend(kind: backend.type.rawValue)
        let chardev = Chardev(id: id, backend: placeholder, log: nil, spec: backend)
        pending = (chardev, placeholder)
        return .success(chardev)
    }

    /// Opens the chardev for a client's command: its files and socket off
    /// the loop, then `done` on the loop; when the request or the VM ended
    /// meanwhile, what was opened is discarded and `cancelled` runs instead.
    func open(id: String, _ backend: QAPI.ChardevBackend, for reply: Reply, cancelled: @escaping () -> Void,
              then done: @escaping (Result<Chardev, QMPError>) -> Void) {
        open(id: id, backend, with: .offLoop(vm, for: reply, cancelled: cancelled), then: done)
    }

    private func open(id: String, _ backend: QAPI.ChardevBackend, with opener: ChardevFiles.Opener,
                      then done: @escaping (Result<Chardev, QMPError>) -> Void) {
        let kind = backend.type.rawValue
        guard ChardevKinds.isServed(kind) else {
            return done(.failure(.generic("'\(kind)' is not a valid char driver name")))
        }
        ChardevFiles.open(for: backend, with: opener) { [self] opened in
            switch opened {
            case .failure(let error): done(.failure(error))
            case .success(let files):
                switch openBackend(backend, files) {
                case .failure(let error): files.discard(with: opener) { done(.failure(error)) }
                case .success(let made):
                    done(.success(Chardev(id: id, backend: made, log: files.log.map { FileWriter(vm: vm, fd: $0.fd) }, spec: backend)))
                }
            }
        }
    }

    /// The backend over the files already open (on failure the caller discards them).
    private func openBackend(_ backend: QAPI.ChardevBackend, _ files: ChardevFiles) -> Result<any ChardevBackend, QMPError> {
        switch backend.variant {
        case .file:
            guard let out = files.out else { return .failure(.generic("chardev: file backend without its file")) }
            return .success(HostDeviceBackend(kind: "file", vm: vm, outFD: out.fd, inFD: files.input))
        case .pty: return PtyBackend.open(vm: vm).map { $0 as any ChardevBackend }
        case .socket(let socket):
            guard let setup = files.socket else { return .failure(.generic("chardev: socket backend without its socket")) }
            return SocketBackend.make(vm: vm, setup, reconnect: socket.data.reconnect ?? 0).map { $0 as any ChardevBackend }
        case .ringbuf(let ring), .memory(let ring): return openRingbuf(backend.type.rawValue, ring.data)
        case .serial, .parallel, .pipe:
            guard let out = files.out else { return .failure(.generic("chardev: \(backend.type.rawValue) backend without its file")) }
            return .success(HostDeviceBackend(kind: backend.type.rawValue, vm: vm, outFD: out.fd, inFD: files.input))
        case .udp:
            guard let fd = files.datagram else { return .failure(.generic("chardev: udp backend without its socket")) }
            return .success(DatagramBackend(fd: fd))
        case .mux(let mux):
            let name = mux.data.chardev
            guard let base = find(name) else { return .failure(.generic("mux: base chardev \(name) not found")) }
            guard !base.isInUse else { return .failure(.generic("Device '\(name)' is in use")) }
            return .success(MuxBackend(base: base))
        case .spicevmc(let channel):
            // QEMU registers the channel with spice later; without a spice
            // display it is a chardev nothing reads.
            let type = channel.data.type
            guard ChardevOpener.spiceChannelTypes.contains(type) else { return .failure(.generic("unsupported type name: \(type)")) }
            return .success(SinkBackend(kind: "spicevmc"))
        case .spiceport:
            // A VM of the fleet has no spice display, as QEMU without -spice.
            return .failure(.generic("spice not enabled"))
        case .dbus:
            // QEMU's dbus chardev is a socket chardev waiting for the D-Bus
            // display to hand it a descriptor; none ever comes here.
            return .success(SinkBackend(kind: "dbus", filename: "disconnected:fd:,server=on"))
        case .braille:
            guard let fd = files.braille else { return .failure(.generic("chardev: braille backend without its connection")) }
            return .success(BrailleBackend(fd: fd))
        case .null, .msmouse, .wctablet, .testdev, .console, .stdio, .qemuVdagent, .vc:
            return .success(SinkBackend(kind: backend.type.rawValue))
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
