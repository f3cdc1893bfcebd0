#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// A unix socket chardev's socket, made on a worker: a server's bound and
/// listening (QMPPluginKit's `ClientSocketPath`, as the NBD server's), a
/// client's connected (non-blocking: connecting) through its directory too.
///
/// Everything that names the path waits on its filesystem: the directory's
/// lookup, the probe of a socket already there (`fstatat`, a `connect`),
/// removing a stale one, `bind` and `connect` themselves. On a FUSE or NFS
/// mount whose server hangs each waits as long as the server does, and
/// `O_NONBLOCK` does not apply to any of them, so none may run on a loop
/// thread (measured: a bystander VM's `query-status` waited about a second
/// per lookup of a FUSE mount whose lookups take one). `run()` does them on
/// a worker; the loop takes the result (`take()`) once it has run, in the
/// order the host's work queue gives.
final class SocketSetup: @unchecked Sendable {
    let path: String
    let isServer: Bool
    private var fd: Int32 = -1
    private var file: ClientSocketPath?
    /// Why it failed, in QEMU's words (nil: it did not).
    private(set) var failure: String?

    init(path: String, isServer: Bool) {
        self.path = path
        self.isServer = isServer
    }

    /// A descriptor nobody took (the VM or the chardev ended meanwhile) is
    /// closed; a server's socket file stays, stale, for the next bind there
    /// to replace.
    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Binds and listens, or connects. Blocking: on a worker only.
    func run() {
        guard isServer else {
            switch Self.connect(path) {
            case .success(let connected): fd = connected
            case .failure(let refusal): failure = refusal.text
            }
            return
        }
        switch ClientSocketPath.listen(path, backlog: SocketBackend.listenBacklog) {
        case .success(let made): (fd, file) = (made.fd, made.socket)
        case .failure(let error): failure = error.desc
        }
    }

    /// The descriptor (and a server's socket file), now the caller's; nil
    /// when `run()` failed.
    func take() -> (fd: Int32, file: ClientSocketPath?)? {
        guard fd >= 0 else { return nil }
        defer { (fd, file) = (-1, nil) }
        return (fd, file)
    }

    /// Connects to `path` through its directory, opened (and checked to be
    /// the one named, no symlink on the way) at each attempt, as the
    /// server's bind goes (`ClientSocketPath.connect`).
    static func connect(_ path: String) -> Result<Int32, SocketRefusal> {
        guard ClientSocketPath.address(path) != nil else { return .failure(SocketRefusal("UNIX socket path '\(path)' is too long")) }
        let file: ClientSocketPath
        switch ClientSocketPath.open(path) {
        case .failure(let error): return .failure(SocketRefusal("Failed to connect to '\(path)': \(error.text)"))
        case .success(let opened): file = opened
        }
        let fd = ClientSocketPath.newSocket()
        guard fd >= 0 else { return .failure(SocketRefusal("Failed to create socket: \(HostFile.errorText)")) }
        guard file.connect(fd) == 0 || errno == EINPROGRESS else {
            let text = HostFile.errorText
            Glibc.close(fd)
            return .failure(SocketRefusal("Failed to connect to '\(path)': \(text)"))
        }
        return .success(fd)
    }
}

/// Why a socket could not be made, in QEMU's words.
struct SocketRefusal: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

extension SocketSetup {
    /// A unix socket backend's checks in QEMU's order and words, the
    /// path's check against the VM's file policy, then the socket made,
    /// each with `opener` (off the loop for a client's command). A
    /// reconnecting client whose first attempt failed still gets its
    /// setup: it tries again later. `held` is what the chardev opened
    /// before (its log file), discarded should the path's check be dropped.
    static func prepare(_ data: QAPI.ChardevSocket, _ opener: ChardevFiles.Opener, discarding held: ChardevFiles,
                        then done: @escaping (Result<SocketSetup, QMPError>) -> Void) {
        guard case .unix(let unix) = data.addr.variant else {
            return done(.failure(.generic("socket chardevs are served on unix paths only in this simulator")))
        }
        let path = unix.data.path
        // QEMU's default for chardev-add: a server, unless told otherwise.
        let isServer = data.server ?? true
        let reconnect = data.reconnect ?? 0
        if isServer && reconnect > 0 {
            return done(.failure(.generic("'reconnect' option is incompatible with socket in server listen mode")))
        }
        let refuse: (String) -> Void = { reason in
            done(.failure(.generic(isServer ? "Failed to bind socket to \(path): \(reason)" : "Failed to connect to '\(path)': \(reason)")))
        }
        ClientSocketPath.check(path, vm: opener.vm, for: opener.reply, cancelled: {
            held.discard(with: opener)
            opener.cancelled?()
        }) { denied in
            if let denied { return refuse(denied) }
            let setup = SocketSetup(path: path, isServer: isServer)
            opener.run({ setup.run() }, then: {
                if let failure = setup.failure, isServer || reconnect <= 0 { return done(.failure(.generic(failure))) }
                done(.success(setup))
            })
        }
    }
}
