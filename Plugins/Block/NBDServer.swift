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
    /// `{"type": "unix", "data": {"path": ...}}`); QEMU's texts for a path
    /// it cannot bind.
    static func start(vm: PluginVM, address: JSONValue, maxConnections: Int64,
                      lookup: @escaping (String) -> (size: Int64, writable: Bool)?,
                      names: @escaping () -> [String]) -> Result<NBDServer, QMPError> {
        guard address["type"]?.stringValue == "unix", let path = address["data"]?["path"]?.stringValue else {
            return .failure(.generic("the NBD server is served on unix paths only in this simulator"))
        }
        func failure(_ reason: String) -> Result<NBDServer, QMPError> {
            .failure(.generic("Failed to bind socket to \(path): \(reason)"))
        }
        if let denied = deniedPath(vm, path) { return failure(denied) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            return .failure(.generic("UNIX socket path '\(path)' is too long"))
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.generic("Failed to create socket: \(String(cString: strerror(errno)))")) }
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return failure(reason)
        }
        var info = stat()
        guard lstat(path, &info) == 0, listen(fd, 5) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(.generic("Failed to listen on socket: \(reason)"))
        }
        let limit = maxConnections > 0 ? Int(min(maxConnections, Int64(defaultClientLimit))) : defaultClientLimit
        let server = NBDServer(vm: vm, path: path, fd: fd, bound: (UInt(info.st_dev), UInt(info.st_ino)),
                               clientLimit: limit, lookup: lookup, names: names)
        server.listenWatch = vm.watch(fd: fd) { [weak server] _ in server?.accept() }
        return .success(server)
    }

    /// A path outside the VM's allowed directories: the reason, else nil
    /// (a path not there yet passes; what is there fails the bind itself).
    private static func deniedPath(_ vm: PluginVM, _ path: String) -> String? {
        let pathOnly: Int32 = 0o10000000  // O_PATH
        switch vm.openFile(path, flags: pathOnly | O_NOFOLLOW) {
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

    /// Closes every client and the listener; removes the socket file if it
    /// is still the one bound here.
    func stop() {
        for connection in connections.values { connection.shutdown() }
        connections = [:]
        if let listenWatch { vm.unwatch(listenWatch) }
        listenWatch = nil
        guard listenFD >= 0 else { return }
        close(listenFD)
        listenFD = -1
        var info = stat()
        if lstat(path, &info) == 0, UInt(info.st_dev) == bound.device, UInt(info.st_ino) == bound.inode { unlink(path) }
    }
}
