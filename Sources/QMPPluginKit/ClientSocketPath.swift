#if canImport(Glibc)
import Glibc
#endif
import QMPWire

/// A unix socket at a path a client named (a chardev's `socket` backend,
/// `nbd-server-start`'s address), held by its directory: the one way a
/// plugin listens on such a path, so every plugin that does keeps the
/// fleet's sockets safe in the same way and says so in the same words.
///
/// QEMU 7.2 unlinks whatever is at the path before it binds (a live socket,
/// even a regular file) and unlinks the path again on close. In a fleet
/// that would let one VM's client take over another VM's socket, or the
/// control socket, or remove them. So here the path passes the VM's file
/// policy first (`check`), its directory is opened once (and must be the
/// directory the path names, with no symlink on the way), the socket is
/// bound and removed through it, a socket file that a server answers on is
/// never replaced (the bind fails with EADDRINUSE, as it would had QEMU not
/// unlinked), nothing but a stale socket is removed, and `remove()` removes
/// the file only while it is still the inode bound here.
///
/// Everything that names the path waits on its filesystem (the policy's
/// lookup, the directory's, the probe of a socket already there, `bind`,
/// the unlinks) and `O_NONBLOCK` applies to none of it, so on a hung FUSE
/// or NFS mount each would hold every VM of the loop: `listen(_:backlog:vm:for:then:)`
/// and `check` run it on workers, and the blocking calls (`open`,
/// `listen(_:backlog:)`, `remove()`) are for a worker only.
///
/// Used by one thread at a time: made and bound on a worker, kept by its
/// owner on the loop, removed on a worker, each hand-over ordered by the
/// host's work queue.
public final class ClientSocketPath: @unchecked Sendable {
    /// `sun_path`'s size on Linux, terminator included.
    public static let maximumPathBytes = 108
    /// Linux O_PATH (not exported by Glibc's Swift overlay): a lookup only.
    private static let pathOnly: Int32 = 0o10000000

    public let path: String
    private let directory: Int32
    private let name: String
    private var bound: (device: UInt, inode: UInt)?

    private init(path: String, directory: Int32, name: String) {
        self.path = path
        self.directory = directory
        self.name = name
    }

    deinit { Glibc.close(directory) }

    /// The names QEMU's `qemu_open` would treat as descriptors, which are
    /// no socket paths.
    public static func isDescriptorName(_ path: String) -> Bool {
        path.hasPrefix("fd:") || path.hasPrefix("/dev/fdset/")
    }

    /// `path` as a unix socket address; nil when it does not fit `sun_path`.
    public static func address(_ path: String) -> sockaddr_un? {
        let bytes = Array(path.utf8)
        guard bytes.count < maximumPathBytes else { return nil }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    /// A non-blocking, close-on-exec unix stream socket, or -1 (errno set).
    public static func newSocket() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// Opens the directory of `path`; fails with the reason. Blocking.
    public static func open(_ path: String) -> Result<ClientSocketPath, ClientSocketPathError> {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else { return .failure(.denied) }
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty, name != ".", name != ".." else { return .failure(.denied) }
        let parent = "/" + path[..<slash].split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let fd = Glibc.open(parent, pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.errno(errno)) }
        // The directory reached must be the one named: a symlink on the way
        // could lead into the socket directory, past the allowed-path check.
        guard Self.resolved(fd) == parent else {
            Glibc.close(fd)
            return .failure(.denied)
        }
        return .success(ClientSocketPath(path: path, directory: fd, name: name))
    }

    private static func resolved(_ fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Connects `fd` (non-blocking) to the socket at the path: 0, or -1
    /// with errno set (EINPROGRESS while it completes). The name is opened
    /// through the open directory without following a symlink, and the
    /// connect goes to that inode (`/proc/self/fd/K`, which always fits
    /// `sun_path`), so neither the directory nor the name can be swapped
    /// after the check, however long the path. Anything but a socket there
    /// is refused as `connect` refuses it (ECONNREFUSED).
    public func connect(_ fd: Int32) -> Int32 {
        let node = openat(directory, name, Self.pathOnly | O_NOFOLLOW | O_CLOEXEC)
        guard node >= 0 else { return -1 }
        defer { Glibc.close(node) }
        var info = stat()
        guard fstat(node, &info) == 0 else { return -1 }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            errno = ECONNREFUSED
            return -1
        }
        guard var addr = Self.address("/proc/self/fd/\(node)") else {
            errno = ENAMETOOLONG
            return -1
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Binds `fd` at the path, through the open directory so it cannot be
    /// swapped after the check: at `/proc/self/fd/N/name` where that fits
    /// `sun_path`. A longer name (a path of about 85 bytes or more) is
    /// bound in a private directory made inside the directory, under a
    /// short name, then linked to its name there (`linkat`, which never
    /// replaces what appeared meanwhile: EEXIST is EADDRINUSE) and the
    /// private directory removed: the plain path would follow whatever a
    /// client swapped in after the check. 0, or -1 with errno set.
    private func bind(_ fd: Int32) -> Int32 {
        if let addr = Self.address("/proc/self/fd/\(directory)/\(name)") { return Self.bind(fd, addr) }
        let staging = ".qmpfleet-bind-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        guard mkdirat(directory, staging, 0o700) == 0 else { return -1 }
        defer { unlinkat(directory, staging, AT_REMOVEDIR) }
        let stagingDirectory = openat(directory, staging, Self.pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard stagingDirectory >= 0 else { return -1 }
        defer { Glibc.close(stagingDirectory) }
        guard let addr = Self.address("/proc/self/fd/\(stagingDirectory)/s") else {
            errno = ENAMETOOLONG
            return -1
        }
        guard Self.bind(fd, addr) == 0 else { return -1 }
        defer { unlinkat(stagingDirectory, "s", 0) }
        guard linkat(stagingDirectory, "s", directory, name, 0) == 0 else {
            if errno == EEXIST { errno = EADDRINUSE }
            return -1
        }
        return 0
    }

    private static func bind(_ fd: Int32, _ address: sockaddr_un) -> Int32 {
        var addr = address
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Makes the name free to bind: nothing there, or a stale socket (which
    /// is removed). A live socket, or anything that is not a socket, stays.
    private func clear() -> Result<Void, ClientSocketPathError> {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            return errno == ENOENT ? .success(()) : .failure(.errno(errno))
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { return .failure(.errno(EADDRINUSE)) }
        switch answers() {
        case .failure(let error): return .failure(error)
        case .success(true): return .failure(.errno(EADDRINUSE))
        case .success(false):
            guard unlinkat(directory, name, 0) == 0 || errno == ENOENT else { return .failure(.errno(errno)) }
            return .success(())
        }
    }

    /// Whether a server accepts connections on the socket (non-blocking:
    /// a full backlog also means one listens).
    private func answers() -> Result<Bool, ClientSocketPathError> {
        let probe = Self.newSocket()
        guard probe >= 0 else { return .failure(.errno(errno)) }
        defer { Glibc.close(probe) }
        if connect(probe) == 0 { return .success(true) }
        switch errno {
        case ECONNREFUSED, ENOENT: return .success(false)
        case EAGAIN, EINPROGRESS: return .success(true)
        default: return .failure(.errno(errno))
        }
    }

    /// Notes the inode just bound, the only one `remove()` will unlink.
    private func recordBound() {
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            bound = (UInt(info.st_dev), UInt(info.st_ino))
        }
    }

    /// Removes the socket file if it is still the one bound here. Blocking.
    public func remove() {
        guard let bound else { return }
        self.bound = nil
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0,
           UInt(info.st_dev) == bound.device, UInt(info.st_ino) == bound.inode {
            unlinkat(directory, name, 0)
        }
    }

    /// Binds and listens on `path` (which `check` passed), with QEMU's texts
    /// for what fails. Unlike QEMU, a socket a server answers on, or
    /// anything but a socket, is left alone and the bind fails; only a
    /// stale socket is replaced. Blocking: on a worker only.
    public static func listen(_ path: String, backlog: Int32) -> Result<(fd: Int32, socket: ClientSocketPath), QMPError> {
        guard address(path) != nil else { return .failure(.generic("UNIX socket path '\(path)' is too long")) }
        func failure(_ reason: String) -> Result<(fd: Int32, socket: ClientSocketPath), QMPError> {
            .failure(.generic("Failed to bind socket to \(path): \(reason)"))
        }
        let file: ClientSocketPath
        switch open(path) {
        case .failure(let error): return failure(error.text)
        case .success(let opened): file = opened
        }
        return file.listen(backlog: backlog)
    }

    /// Binds and listens at the path this was opened for, replacing only a
    /// stale socket there, with QEMU's texts for what fails. Blocking: on a
    /// worker only.
    public func listen(backlog: Int32) -> Result<(fd: Int32, socket: ClientSocketPath), QMPError> {
        func failure(_ reason: String) -> Result<(fd: Int32, socket: ClientSocketPath), QMPError> {
            .failure(.generic("Failed to bind socket to \(path): \(reason)"))
        }
        if case .failure(let error) = clear() { return failure(error.text) }
        let fd = Self.newSocket()
        guard fd >= 0 else { return .failure(.generic("Failed to create socket: \(String(cString: strerror(errno)))")) }
        guard bind(fd) == 0 else {
            let text = String(cString: strerror(errno))
            Glibc.close(fd)
            return failure(text)
        }
        recordBound()
        guard Glibc.listen(fd, backlog) == 0 else {
            let text = String(cString: strerror(errno))
            Glibc.close(fd)
            remove()
            return .failure(.generic("Failed to listen on socket: \(text)"))
        }
        return .success((fd, self))
    }

    /// Why the VM's file policy refuses `path` as a socket path (nil: it
    /// may be used), then `done` on the loop. A descriptor name is refused;
    /// otherwise the path is looked up on a worker without creating
    /// anything: only a path that is not there yet (ENOENT) or opens
    /// passes, any other failure refuses. For `reply`'s request, with
    /// `cancelled` instead of `done` when it ended meanwhile
    /// (`PluginVM.openFile(_:flags:mode:for:cancelled:then:)`).
    public static func check(_ path: String, vm: PluginVM, for reply: Reply?, cancelled: (() -> Void)? = nil,
                             then done: @escaping (String?) -> Void) {
        if isDescriptorName(path) { return done(ClientSocketPathError.denied.text) }
        vm.openFile(path, flags: pathOnly | O_NOFOLLOW, mode: 0, for: reply, cancelled: cancelled) { checked in
            switch checked {
            case .success(let fd):
                Glibc.close(fd)
                done(nil)
            case .failure(let error):
                if error.desc.hasSuffix(": \(String(cString: strerror(ENOENT)))") { return done(nil) }
                done(error.desc.ranges(of: "': ").last.map { String(error.desc[$0.upperBound...]) } ?? ClientSocketPathError.denied.text)
            }
        }
    }

    /// `check`, then `listen(_:backlog:)` on a worker, then `done` on the
    /// loop with the listening descriptor (now the caller's) and its
    /// socket file (for `remove()` when it closes), or QEMU's text.
    /// `done` is not called when the VM ended meanwhile: what was bound is
    /// closed, its file left stale for the next bind there to replace.
    public static func listen(_ path: String, backlog: Int32, vm: PluginVM, for reply: Reply?,
                              then done: @escaping (Result<(fd: Int32, socket: ClientSocketPath), QMPError>) -> Void) {
        check(path, vm: vm, for: reply) { denied in
            if let denied { return done(.failure(.generic("Failed to bind socket to \(path): \(denied)"))) }
            let setup = ListenSetup()
            vm.offload({ setup.made = listen(path, backlog: backlog) }, then: {
                guard let made = setup.made else { return done(.failure(.generic("Failed to bind socket to \(path)"))) }
                setup.made = nil
                done(made)
            })
        }
    }
}

/// One off-loop `listen`'s result, set on a worker and taken on the loop
/// after it; a descriptor nobody took (the VM ended) is closed.
private final class ListenSetup: @unchecked Sendable {
    var made: Result<(fd: Int32, socket: ClientSocketPath), QMPError>?

    deinit { if case .success(let made)? = made { Glibc.close(made.fd) } }
}

/// Why a client-named socket path cannot be used.
public enum ClientSocketPathError: Error {
    /// Not a path a VM may use (relative, a descriptor name, a symlink on the way).
    case denied
    case errno(Int32)

    /// The reason in strerror's words, as QEMU ends its text.
    public var text: String {
        switch self {
        case .denied: return String(cString: strerror(EACCES))
        case .errno(let code): return String(cString: strerror(code))
        }
    }
}
