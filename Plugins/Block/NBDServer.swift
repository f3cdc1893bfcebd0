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
/// directories the VM may create files in: QMPPluginKit's `ClientSocketPath`
/// checks the path through the VM's file policy, binds it and removes it,
/// as it does the chardev plugin's sockets. Nothing is ever unlinked but the
/// socket this server bound, or a stale one in its place.
final class NBDServer {
    /// Clients served at once when `max-connections` is 0 (QEMU: unlimited).
    static let defaultClientLimit = 16
    /// The longest option (NBD_MAX_STRING_SIZE plus its framing) a client may send.
    static let maximumOptionBytes = 4096 + 64
    /// The longest read or write (NBD_MAX_BUFFER_SIZE), as QEMU advertises it.
    static let maximumRequestBytes: UInt32 = 32 << 20
    /// Connections the kernel queues before `accept` (the chardev's socket queues one).
    static let listenBacklog: Int32 = 5

    let path: String
    private let vm: PluginVM
    private var listenFD: Int32
    private var listenWatch: FDWatchID?
    private let socket: ClientSocketPath
    private let clientLimit: Int
    private var connections: [ObjectIdentifier: NBDConnection] = [:]
    /// An export's size and writability by name, from the block plugin's state.
    let lookup: (String) -> (size: Int64, writable: Bool)?
    /// Names for NBD_OPT_LIST.
    let names: () -> [String]

    private init(vm: PluginVM, path: String, fd: Int32, socket: ClientSocketPath, clientLimit: Int,
                 lookup: @escaping (String) -> (size: Int64, writable: Bool)?, names: @escaping () -> [String]) {
        self.vm = vm
        self.path = path
        self.listenFD = fd
        self.socket = socket
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
        // Not tied to the request: `done` must come while the VM lives, to end the start.
        ClientSocketPath.listen(path, backlog: listenBacklog, vm: vm, for: nil) { made in
            switch made {
            case .failure(let error): done(.failure(error))
            case .success(let made):
                let limit = maxConnections > 0 ? Int(min(maxConnections, Int64(defaultClientLimit))) : defaultClientLimit
                let server = NBDServer(vm: vm, path: path, fd: made.fd, socket: made.socket, clientLimit: limit, lookup: lookup, names: names)
                server.listenWatch = vm.watch(fd: made.fd) { [weak server] _ in server?.accept() }
                done(.success(server))
            }
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
        let socket = socket
        vm.offload({ socket.remove() }, then: done)
    }
}
