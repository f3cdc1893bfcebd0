#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The POSIX side of a migration stream: listening, accepting and
/// connecting without ever blocking the VM's loop (sockets are
/// non-blocking, a connect in progress is waited for with a writable watch).
enum MigrationSocket {
    static let listenBacklog: Int32 = 1

    static var errorText: String { String(cString: strerror(errno)) }

    private static func newSocket(_ domain: Int32) -> Int32 {
        socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// Runs `body` with the sockaddr of a unix or inet address.
    private static func withSockaddr<T>(_ address: MigrationAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        switch address {
        case .unix(let path):
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count <= MigrationAddress.maximumPathBytes else { return nil }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
                raw[bytes.count] = 0
            }
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        case .inet(let host, let port):
            guard let ip = MigrationAddress.ipv4(host) else { return nil }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr = ip
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .fd:
            return nil
        }
    }

    private static func domain(_ address: MigrationAddress) -> Int32 {
        if case .inet = address { return AF_INET }
        return AF_UNIX
    }

    /// A listening socket for `migrate-incoming`. An old socket file at a
    /// unix path is replaced as QEMU replaces it; nothing else is removed.
    static func listen(_ address: MigrationAddress) -> Result<Int32, QMPError> {
        let fd = newSocket(domain(address))
        guard fd >= 0 else { return .failure(.generic("Failed to create socket: \(errorText)")) }
        if case .unix(let path) = address {
            var st = stat()
            if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        } else {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = withSockaddr(address) { bind(fd, $0, $1) } ?? -1
        guard bound == 0 else {
            let text = errorText
            close(fd)
            switch address {
            case .unix(let path): return .failure(.generic("Failed to bind socket to \(path): \(text)"))
            default: return .failure(.generic("Failed to bind socket: \(text)"))
            }
        }
        guard Glibc.listen(fd, listenBacklog) == 0 else {
            let text = errorText
            close(fd)
            return .failure(.generic("Failed to listen on socket: \(text)"))
        }
        return .success(fd)
    }

    /// One connection from a listening socket, non-blocking; nil when none is waiting.
    static func accept(_ listener: Int32) -> Int32? {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        setNonBlocking(fd)
        return fd
    }

    enum ConnectStart {
        case connected(Int32)
        case inProgress(Int32)
        case failed(String)
    }

    /// Starts a non-blocking connect; the caller watches an `inProgress` fd
    /// for writability and then asks `connectResult`.
    static func connect(_ address: MigrationAddress) -> ConnectStart {
        let fd = newSocket(domain(address))
        guard fd >= 0 else { return .failed("Failed to create socket: \(errorText)") }
        let rc = withSockaddr(address) { Glibc.connect(fd, $0, $1) } ?? -1
        if rc == 0 { return .connected(fd) }
        if errno == EINPROGRESS { return .inProgress(fd) }
        let text = errorText
        close(fd)
        return .failed("Failed to connect to '\(address.peerName)': \(text)")
    }

    /// SO_ERROR of a connect that was in progress: nil when it succeeded.
    static func connectResult(_ fd: Int32, _ address: MigrationAddress) -> String? {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
            return "Failed to connect to '\(address.peerName)': \(errorText)"
        }
        guard error == 0 else { return "Failed to connect to '\(address.peerName)': \(String(cString: strerror(error)))" }
        return nil
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }
}
