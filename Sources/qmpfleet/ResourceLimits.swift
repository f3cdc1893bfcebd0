#if canImport(Glibc)
import Glibc
#endif

/// Process limits a large fleet needs.
enum ResourceLimits {
    /// Descriptors the process needs besides VMs and clients: stdio, the
    /// control socket, plugin libraries' files, libuv's epoll and eventfds.
    static let reservedDescriptors = 64

    /// Raises the soft RLIMIT_NOFILE to the hard limit: each VM holds a
    /// listening socket and each client a connection. Returns the new limit.
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }
}
