#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// A unix socket chardev's socket, made on a worker: a server's bound and
/// listening, a client's connected (non-blocking: connecting).
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
    private var file: SocketPath?
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
        let made = isServer ? Self.listen(path) : Self.connect(path).map { fd -> (Int32, SocketPath?) in (fd, nil) }
        switch made {
        case .success(let made): (fd, file) = made
        case .failure(let refusal): failure = refusal.text
        }
    }

    /// The descriptor (and a server's socket file), now the caller's; nil
    /// when `run()` failed.
    func take() -> (fd: Int32, file: SocketPath?)? {
        guard fd >= 0 else { return nil }
        defer { (fd, file) = (-1, nil) }
        return (fd, file)
    }

    /// Binds and listens on `path`. Unlike QEMU (see `SocketPath`), a
    /// socket a server answers on, or anything but a socket, is left alone
    /// and the bind fails; only a stale socket is replaced.
    private static func listen(_ path: String) -> Result<(Int32, SocketPath?), SocketRefusal> {
        guard SocketBackend.address(path) != nil else { return .failure(SocketRefusal("UNIX socket path '\(path)' is too long")) }
        func failure(_ reason: String) -> Result<(Int32, SocketPath?), SocketRefusal> { .failure(SocketRefusal("Failed to bind socket to \(path): \(reason)")) }
        let file: SocketPath
        switch SocketPath.open(path) {
        case .failure(let error): return failure(error.text)
        case .success(let opened): file = opened
        }
        if case .failure(let error) = file.clear() { return failure(error.text) }
        guard var addr = SocketBackend.address(file.address) else { return failure(SocketPathError.errno(ENAMETOOLONG).text) }
        let fd = SocketBackend.newSocket()
        guard fd >= 0 else { return .failure(SocketRefusal("Failed to create socket: \(HostFile.errorText)")) }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let text = HostFile.errorText
            Glibc.close(fd)
            return failure(text)
        }
        file.recordBound()
        guard Glibc.listen(fd, SocketBackend.listenBacklog) == 0 else {
            let text = HostFile.errorText
            Glibc.close(fd)
            file.remove()
            return .failure(SocketRefusal("Failed to listen on socket: \(text)"))
        }
        return .success((fd, file))
    }

    /// Connects to `path` through its directory, opened (and checked to be
    /// the one named, no symlink on the way) at each attempt, as the
    /// server's bind goes.
    static func connect(_ path: String) -> Result<Int32, SocketRefusal> {
        guard SocketBackend.address(path) != nil else { return .failure(SocketRefusal("UNIX socket path '\(path)' is too long")) }
        let file: SocketPath
        switch SocketPath.open(path) {
        case .failure(let error): return .failure(SocketRefusal("Failed to connect to '\(path)': \(error.text)"))
        case .success(let opened): file = opened
        }
        guard var addr = SocketBackend.address(file.address) else { return .failure(SocketRefusal("UNIX socket path '\(path)' is too long")) }
        let fd = SocketBackend.newSocket()
        guard fd >= 0 else { return .failure(SocketRefusal("Failed to create socket: \(HostFile.errorText)")) }
        // The address names the directory's descriptor: keep it open until then.
        let rc = withExtendedLifetime(file) {
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        guard rc == 0 || errno == EINPROGRESS else {
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
        if SocketPath.isDescriptorName(path) { return refuse(SocketPathError.denied.text) }
        opener.open(path, flags: ChardevOpener.pathOnly | O_NOFOLLOW, mode: 0, discarding: held) { checked in
            if let denied = deniedReason(checked) { return refuse(denied) }
            let setup = SocketSetup(path: path, isServer: isServer)
            opener.run({ setup.run() }, then: {
                if let failure = setup.failure, isServer || reconnect <= 0 { return done(.failure(.generic(failure))) }
                done(.success(setup))
            })
        }
    }

    /// Why the policy refuses a socket path (the socket directory is never
    /// allowed), from its lookup without creating anything: only a path
    /// that is not there yet (ENOENT) or opens passes, any other failure
    /// denies. The lookup's descriptor is closed.
    private static func deniedReason(_ checked: Result<Int32, QMPError>) -> String? {
        switch checked {
        case .success(let fd):
            Glibc.close(fd)
            return nil
        case .failure(let error):
            let missing = String(cString: strerror(ENOENT))
            if error.desc.hasSuffix(": \(missing)") { return nil }
            let reason = error.desc.ranges(of: "': ").last.map { String(error.desc[$0.upperBound...]) }
            return reason ?? String(cString: strerror(EACCES))
        }
    }
}
