#if canImport(Glibc)
import Glibc
#endif

/// The directory that holds the fleet's sockets: created if missing with the
/// socket mode plus search bits (0700 for the default 0600), and refused when
/// it is something else than a directory.
enum SocketDirectory {
    static func prepare(_ path: String, mode: mode_t) throws(FleetError) {
        let dirMode = mode | ((mode & 0o444) >> 2)
        var components: [Substring] = []
        for part in path.split(separator: "/") {
            components.append(part)
            let prefix = (path.hasPrefix("/") ? "/" : "") + components.joined(separator: "/")
            if mkdir(prefix, dirMode) != 0 && errno != EEXIST {
                throw FleetError.io("cannot create socket directory \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FleetError.io("socket directory \(path) is not a directory")
        }
        if info.st_uid == getuid() { chmod(path, dirMode) }
    }
}
