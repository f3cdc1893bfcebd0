#if canImport(Glibc)
import Glibc
#endif
import CUV

/// A listening TCP socket on the loop thread: the fleet's HTTP endpoint
/// (metrics and the fleet page).
///
/// Like `UnixListener` it watches a non-blocking socket with `uv_poll_t` and
/// hands each accepted socket over as a `UnixConnection`, whose
/// `recvmsg`/`sendmsg` code serves any stream socket (TCP carries no
/// descriptors, so that part simply never fires). Loop-confined; kept alive
/// by its poll handle while open.
public final class TCPListener: LoopHandle {
    /// Connections accepted per readiness callback (as `UnixListener`).
    static let acceptsPerWakeup = 16

    /// Where it listens, with the port the kernel chose when asked for 0.
    public let address: TCPAddress
    private let fd: Int32
    private let loop: EventLoop
    private var watcher: FDWatcher?
    private let onAccept: (UnixConnection) -> Void

    public init(loop: EventLoop, address: TCPAddress, backlog: Int32 = 64, onAccept: @escaping (UnixConnection) -> Void) throws {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UVError.errno("socket") }
        // A restarted fleet must not wait out TIME_WAIT of its last run's port.
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let error = UVError.errno("bind(\(address))")
            Glibc.close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = UVError.errno("listen(\(address))")
            Glibc.close(fd)
            throw error
        }
        self.address = address.with(port: Self.boundPort(fd) ?? address.port)
        self.fd = fd
        self.loop = loop
        self.onAccept = onAccept
        do {
            // The watcher's closure holds the listener while it is open.
            watcher = try FDWatcher(loop: loop, fd: fd) { _, failed in
                if !failed { self.acceptAvailable() }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        watcher?.user = self
        watcher?.watch(.readable)
    }

    private static func boundPort(_ fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> UInt16 in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    private func acceptAvailable() {
        for _ in 0..<Self.acceptsPerWakeup {
            guard watcher != nil else { return }
            let client = cuv_accept_nonblocking(fd)
            // EAGAIN: all taken; EMFILE and the like: retried on the next wake-up.
            if client < 0 { return }
            guard let connection = try? UnixConnection(loop: loop, fd: client) else { continue }
            onAccept(connection)
        }
    }

    /// Stops accepting and closes the socket. Idempotent.
    public func close() {
        guard let watcher else { return }
        watcher.close()
        self.watcher = nil
        Glibc.close(fd)
    }
}
