import CUV

/// A listening unix stream socket on the loop.
///
/// Created by us (mode set at bind time, a stale socket file replaced, a
/// path that is not a socket or that a live server answers on refused), or
/// adopted from an inherited descriptor (libvirt hands QEMU an
/// already-listening monitor socket).
public final class UnixListener {
    public struct Options: Sendable {
        /// Mode of the socket file.
        public var mode: mode_t = 0o600
        public var backlog: Int32 = 128
        /// Replace a socket file nobody listens on.
        public var replaceStale = true
        public init() {}
    }

    public let path: String?
    private let fd: Int32
    private let loop: EventLoop
    private var watcher: FDWatcher?
    private let onAccept: (UnixConnection) -> Void

    public init(loop: EventLoop, path: String, options: Options = .init(), onAccept: @escaping (UnixConnection) -> Void) throws {
        var address = try UnixAddress(path: path)
        try Self.clearPath(path, replaceStale: options.replaceStale)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UVError.errno("socket") }
        // The mode must hold from the first instant the file exists.
        let oldMask = umask(~options.mode & 0o777)
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        let bindError = errno
        umask(oldMask)
        guard bound == 0 else {
            Glibc.close(fd)
            throw UVError(code: -bindError, operation: "bind(\(path))")
        }
        chmod(path, options.mode)
        guard listen(fd, options.backlog) == 0 else {
            let error = UVError.errno("listen(\(path))")
            Glibc.close(fd)
            unlink(path)
            throw error
        }
        self.path = path
        self.fd = fd
        self.loop = loop
        self.onAccept = onAccept
        try startWatching()
    }

    public init(loop: EventLoop, adoptingListeningFD fd: Int32, onAccept: @escaping (UnixConnection) -> Void) throws {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.path = nil
        self.fd = fd
        self.loop = loop
        self.onAccept = onAccept
        try startWatching()
    }

    private func startWatching() throws {
        // The watcher holds the listener strongly while it is open.
        watcher = try FDWatcher(loop: loop, fd: fd) { _, failed in
            if !failed { self.acceptAll() }
        }
        watcher?.watch(.readable)
    }

    private func acceptAll() {
        while watcher != nil {
            let client = cuv_accept_nonblocking(fd)
            if client < 0 { return }
            do {
                onAccept(try UnixConnection(loop: loop, fd: client))
            } catch {
                Glibc.close(client)
            }
        }
    }

    /// Stops listening, closes the socket and removes the file we created.
    public func close() {
        guard let watcher else { return }
        watcher.close()
        self.watcher = nil
        Glibc.close(fd)
        if let path { unlink(path) }
    }

    /// A path may be reused only when it is absent or a socket nobody answers on.
    static func clearPath(_ path: String, replaceStale: Bool) throws(UVError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw UVError(code: -EEXIST, operation: "\(path) exists and is not a socket")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if probe >= 0 {
            defer { Glibc.close(probe) }
            var address = try UnixAddress(path: path)
            if address.withSockaddr({ Glibc.connect(probe, $0, $1) }) == 0 {
                throw UVError(code: -EADDRINUSE, operation: "\(path): another process is listening on it")
            }
        }
        guard replaceStale else { throw UVError(code: -EEXIST, operation: "\(path) exists") }
        unlink(path)
    }
}

#if canImport(Glibc)
import Glibc
#endif
