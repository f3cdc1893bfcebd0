#if canImport(Glibc)
import Glibc
#endif
import QMPWire

/// Where a chardev's unix server socket lives, held by its directory.
///
/// QEMU 7.2 unlinks whatever is at the path before it binds (a live socket,
/// even a regular file) and unlinks the path again on close. In a fleet
/// that would let one VM's client take over another VM's socket, or the
/// control socket, or remove them. So here the directory is opened once
/// (and must be the directory the path names, with no symlink on the way),
/// the socket is bound and removed through it, a socket file that a server
/// answers on is never replaced (the bind fails with EADDRINUSE, as it
/// would had QEMU not unlinked), nothing but a stale socket is removed,
/// and close removes the file only while it is still the inode bound here.
///
/// Used by one thread at a time: made and bound on a worker, kept by the
/// backend on the loop, removed on a worker (each lookup may wait on a
/// hung mount), each hand-over ordered by the host's work queue.
final class SocketPath: @unchecked Sendable {
    let path: String
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
    static func isDescriptorName(_ path: String) -> Bool {
        path.hasPrefix("fd:") || path.hasPrefix("/dev/fdset/")
    }

    /// Opens the directory of `path`; fails with the reason (an errno text).
    static func open(_ path: String) -> Result<SocketPath, SocketPathError> {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else { return .failure(.denied) }
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty, name != ".", name != ".." else { return .failure(.denied) }
        let parent = "/" + path[..<slash].split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let fd = Glibc.open(parent, ChardevOpener.pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.errno(errno)) }
        // The directory reached must be the one named: a symlink on the way
        // could lead into the socket directory, past the allowed-path check.
        guard Self.resolved(fd) == parent else {
            Glibc.close(fd)
            return .failure(.denied)
        }
        return .success(SocketPath(path: path, directory: fd, name: name))
    }

    private static func resolved(_ fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address to bind or connect to: through the open directory
    /// (`/proc/self/fd/N/name`), so the directory cannot be swapped after
    /// the check; the path itself where that does not fit `sun_path`.
    var address: String {
        let viaDirectory = "/proc/self/fd/\(directory)/\(name)"
        return viaDirectory.utf8.count < SocketBackend.maximumPathBytes ? viaDirectory : path
    }

    /// Makes the name free to bind: nothing there, or a stale socket (which
    /// is removed). A live socket, or anything that is not a socket, stays.
    func clear() -> Result<Void, SocketPathError> {
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
    private func answers() -> Result<Bool, SocketPathError> {
        let probe = SocketBackend.newSocket()
        guard probe >= 0 else { return .failure(.errno(errno)) }
        defer { Glibc.close(probe) }
        guard var addr = SocketBackend.address(address) else { return .failure(.errno(ENAMETOOLONG)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 { return .success(true) }
        switch errno {
        case ECONNREFUSED, ENOENT: return .success(false)
        case EAGAIN, EINPROGRESS: return .success(true)
        default: return .failure(.errno(errno))
        }
    }

    /// Notes the inode just bound, the only one `remove()` will unlink.
    func recordBound() {
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            bound = (UInt(info.st_dev), UInt(info.st_ino))
        }
    }

    /// Removes the socket file if it is still the one bound here.
    func remove() {
        guard let bound else { return }
        self.bound = nil
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0,
           UInt(info.st_dev) == bound.device, UInt(info.st_ino) == bound.inode {
            unlinkat(directory, name, 0)
        }
    }
}

/// Why a socket path cannot be used.
enum SocketPathError: Error {
    /// Not a path a VM may use (relative, a descriptor name, a symlink on the way).
    case denied
    case errno(Int32)

    var text: String {
        switch self {
        case .denied: return String(cString: strerror(EACCES))
        case .errno(let code): return String(cString: strerror(code))
        }
    }
}
