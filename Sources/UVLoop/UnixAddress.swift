import CUV

/// A `sockaddr_un` for a path, refusing paths that do not fit (108 bytes).
struct UnixAddress {
    private var storage = sockaddr_un()

    init(path: String) throws(UVError) {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count < capacity, !bytes.contains(0) else {
            throw UVError(code: -ENAMETOOLONG, operation: "socket path \(path) (at most \(capacity - 1) bytes)")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
    }

    mutating func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
