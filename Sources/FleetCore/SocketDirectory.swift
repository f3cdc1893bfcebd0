#if canImport(Glibc)
import Glibc
#endif

/// The directory that holds the fleet's sockets.
///
/// Whoever can write to it can put a socket of their own where a VM's or
/// the control socket belongs and see every command sent to it, so the
/// fleet refuses to start in one it does not own alone: it must be a real
/// directory (not a symlink) owned by the fleet's user, with no group or
/// other bits but the read and search bits `socket-mode` needs to let that
/// class reach the sockets (none for the default 0600), and never write.
/// Missing, it is created so (0700 for the default).
package enum SocketDirectory {
    /// The directory mode for sockets of `socketMode`: the owner's rwx, and
    /// r-x for the group or others where the socket mode grants them any access.
    static func mode(forSocketMode socketMode: mode_t) -> mode_t {
        var mode: mode_t = 0o700
        if socketMode & 0o070 != 0 { mode |= 0o050 }
        if socketMode & 0o007 != 0 { mode |= 0o005 }
        return mode
    }

    static func prepare(_ path: String, mode socketMode: mode_t) throws(FleetError) {
        let dirMode = mode(forSocketMode: socketMode)
        var components: [Substring] = []
        var created = false
        for part in path.split(separator: "/") {
            components.append(part)
            let prefix = (path.hasPrefix("/") ? "/" : "") + components.joined(separator: "/")
            if mkdir(prefix, 0o700) == 0 {
                created = true
            } else if errno != EEXIST {
                throw FleetError.io("cannot create socket directory \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        // The umask may have taken bits the socket mode needs.
        if created { chmod(path, dirMode) }
        if let problem = problem(with: path, socketMode: socketMode) { throw FleetError.io(problem) }
    }

    /// Why `path` must not hold the fleet's sockets, or nil when it may.
    static func problem(with path: String, socketMode: mode_t) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return "socket directory \(path): \(String(cString: strerror(errno)))"
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return "socket directory \(path) is not a directory"
        }
        guard info.st_uid == geteuid() else {
            return "socket directory \(path) is owned by uid \(info.st_uid), not by the fleet's user (uid \(geteuid())); refusing to use it"
        }
        let extra = info.st_mode & 0o077 & ~mode(forSocketMode: socketMode)
        guard extra == 0 else {
            return "socket directory \(path) has mode \(String(info.st_mode & 0o7777, radix: 8)): the group or others may "
                + "\(extra & 0o022 != 0 ? "write to" : "read") it; refusing to use it (chmod \(String(mode(forSocketMode: socketMode), radix: 8)) it)"
        }
        return nil
    }

    /// Whether `path` names an entry directly in `directory` (symlinks in
    /// either resolved): where `vm-attach-monitor` may put a VM's socket.
    package static func contains(_ path: String, directory: String) -> Bool {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else { return false }
        let name = path[path.index(after: slash)...]
        guard !name.isEmpty, name != ".", name != ".." else { return false }
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        guard let resolvedParent = resolved(parent), let resolvedDirectory = resolved(directory) else {
            return trimmed(parent) == trimmed(directory)
        }
        return resolvedParent == resolvedDirectory
    }

    /// Whether `path` lies anywhere beneath `directory`, lexically or once
    /// the symlinks of its existing part are resolved.
    static func isBeneath(_ path: String, directory: String) -> Bool {
        let dir = trimmed(directory) + "/"
        if path.hasPrefix(dir) { return true }
        guard let resolvedDirectory = resolved(directory) else { return false }
        // The longest existing ancestor of `path`, resolved.
        var candidate = path
        while let slash = candidate.lastIndex(of: "/"), slash != candidate.startIndex {
            candidate = String(candidate[..<slash])
            if let real = resolved(candidate) {
                return real == resolvedDirectory || real.hasPrefix(resolvedDirectory + "/")
            }
        }
        return false
    }

    private static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    private static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
