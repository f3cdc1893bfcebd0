import Glibc
import QMPPluginKit
import QMPWire

/// The NBD server `nbd-server-start` runs: a real listening unix socket
/// speaking the fixed-newstyle NBD protocol (docs/interop/nbd.txt), so
/// `qemu-img info nbd+unix:///EXPORT?socket=PATH` or `qemu-nbd --list`
/// see the VM's exports with their sizes. Reads return zeros (the
/// simulated guest's disks hold no data); writes to a writable export are
/// accepted and dropped; read-only exports refuse them with EPERM.
///
/// Served on unix paths only (test traffic stays on this host), inside the
/// directories the VM may create files in, checked through the VM's file
/// policy as the chardev plugin's sockets are. Nothing is ever unlinked but
/// the socket this server bound.
final class NBDServer {
    /// Clients served at once when `max-connections` is 0 (QEMU: unlimited).
    static let defaultClientLimit = 16
    /// The longest option (NBD_MAX_STRING_SIZE plus its framing) a client may send.
    static let maximumOptionBytes = 4096 + 64
    /// The longest read or write (NBD_MAX_BUFFER_SIZE), as QEMU advertises it.
    static let maximumRequestBytes: UInt32 = 32 << 20

    let path: String
    private let vm: PluginVM
    private var listenFD: Int32
    private var listenWatch: FDWatchID?
    private let bound: (device: UInt, inode: UInt)
    private let clientLimit: Int
    private var connections: [ObjectIdentifier: NBDConnection] = [:]
    /// An export's size and writability by name, from the block plugin's state.
    let lookup: (String) -> (size: Int64, writable: Bool)?
    /// Names for NBD_OPT_LIST.
    let names: () -> [String]

    private init(vm: PluginVM, path: String, fd: Int32, bound: (UInt, UInt), clientLimit: Int,
                 lookup: @escaping (String) -> (size: Int64, writable: Bool)?, names: @escaping () -> [String]) {
        self.vm = vm
        self.path = path
        self.listenFD = fd
        self.bound = bound
        self.clientLimit = clientLimit
        self.lookup = lookup
        self.names = names
    }

    deinit { stop() }

    /// Binds and listens on `address` (a SocketAddressLegacy:
    /// `{"type": "unix", "data": {"path": ...}}`), then `done` on the loop
    /// with the server or QEMU's texts for a path it cannot bind. The
    /// path's check, its bind and lookup run on workers: each waits on a
    /// hung FUSE or NFS mount, which would hold every VM of the loop.
    /// `done` is not called when the VM ended meanwhile (then what was
    /// bound is closed, its file left stale).
    static func start(vm: PluginVM, address: JSONValue, maxConnections: Int64,
                      lookup: @escaping (String) -> (size: Int64, writable: Bool)?,
                      names: @escaping () -> [String],
                      then done: @escaping (Result<NBDServer, QMPError>) -> Void) {
        guard address["type"]?.stringValue == "unix", let path = address["data"]?["path"]?.stringValue else {
            return done(.failure(.generic("the NBD server is served on unix paths only in this simulator")))
        }
        let pathOnly: Int32 = 0o10000000  // O_PATH
        // Not tied to the request: `done` must come while the VM lives, to end the start.
        vm.openFile(path, flags: pathOnly | O_NOFOLLOW, for: nil) { checked in
            if let denied = deniedReason(checked) { return done(.failure(.generic("Failed to bind socket to \(path): \(denied)"))) }
            guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
                return done(.failure(.generic("UNIX socket path '\(path)' is too long")))
            }
            let setup = NBDListenSetup(path: path)
            vm.offload({ setup.run() }, then: {
                guard let made = setup.take() else {
                    return done(.failure(.generic(setup.failure ?? "Failed to bind socket to \(path)")))
                }
                let limit = maxConnections > 0 ? Int(min(maxConnections, Int64(defaultClientLimit))) : defaultClientLimit
                let server = NBDServer(vm: vm, path: path, fd: made.fd, bound: made.bound, clientLimit: limit, lookup: lookup, names: names)
                server.listenWatch = vm.watch(fd: made.fd) { [weak server] _ in server?.accept() }
                done(.success(server))
            })
        }
    }

    /// Why the VM's file policy refuses the path, from its lookup (a path
    /// not there yet passes; what is there fails the bind itself), else nil.
    private static func deniedReason(_ checked: Result<Int32, QMPError>) -> String? {
        switch checked {
        case .success(let fd):
            close(fd)
            return nil
        case .failure(let error):
            if error.desc.hasSuffix(": \(String(cString: strerror(ENOENT)))") { return nil }
            return error.desc.ranges(of: "': ").last.map { String(error.desc[$0.upperBound...]) } ?? String(cString: strerror(EACCES))
        }
    }

    private func accept() {
        let fd = Glibc.accept(listenFD, nil, nil)
        guard fd >= 0 else { return }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard connections.count < clientLimit else {
            close(fd)
            return
        }
        let connection = NBDConnection(vm: vm, fd: fd, server: self)
        connections[ObjectIdentifier(connection)] = connection
        connection.begin()
    }

    func closed(_ connection: NBDConnection) {
        connections[ObjectIdentifier(connection)] = nil
    }

    /// Closes every client and the listener, then `done` once the socket
    /// file is removed if it is still the one bound here (on a worker: the
    /// lookup waits on a hung mount; `done` is not called when the VM
    /// ended meanwhile).
    func stop(then done: @escaping () -> Void = {}) {
        for connection in connections.values { connection.shutdown() }
        connections = [:]
        if let listenWatch { vm.unwatch(listenWatch) }
        listenWatch = nil
        guard listenFD >= 0 else { return done() }
        close(listenFD)
        listenFD = -1
        let (path, bound) = (path, bound)
        vm.offload({
            var info = stat()
            if lstat(path, &info) == 0, UInt(info.st_dev) == bound.device, UInt(info.st_ino) == bound.inode { unlink(path) }
        }, then: done)
    }
}

/// The NBD server's socket, bound and listening on a worker: `bind` and
/// the lookup after it wait on the path's filesystem. The loop takes the
/// result once `run()` has run (the host's work queue orders the two).
private final class NBDListenSetup: @unchecked Sendable {
    let path: String
    private var fd: Int32 = -1
    private var bound: (device: UInt, inode: UInt) = (0, 0)
    /// QEMU's text, when it failed.
    private(set) var failure: String?

    init(path: String) { self.path = path }

    /// A descriptor nobody took (the VM ended) is closed.
    deinit { if fd >= 0 { close(fd) } }

    /// Blocking: on a worker only.
    func run() {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else {
            failure = "Failed to create socket: \(String(cString: strerror(errno)))"
            return
        }
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            failure = "Failed to bind socket to \(path): \(String(cString: strerror(errno)))"
            close(socketFD)
            return
        }
        var info = stat()
        guard lstat(path, &info) == 0, listen(socketFD, 5) == 0 else {
            failure = "Failed to listen on socket: \(String(cString: strerror(errno)))"
            close(socketFD)
            return
        }
        fd = socketFD
        bound = (UInt(info.st_dev), UInt(info.st_ino))
    }

    /// The listening descriptor and the bound inode, now the caller's.
    func take() -> (fd: Int32, bound: (device: UInt, inode: UInt))? {
        guard fd >= 0 else { return nil }
        defer { fd = -1 }
        return (fd, bound)
    }
}
