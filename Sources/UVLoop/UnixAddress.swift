import CUV

/// A `sockaddr_un` for a path, refusing paths that do not fit (108 bytes).
struct UnixAddress {
    private var storage = sockaddr_un()

    init(path: String) throws(UVError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // Copied from the string's own bytes (an array of them was an
        // allocation for every socket a VM listens on).
        var text = path
        let fits = text.withUTF8 { bytes -> Bool in
            guard bytes.count < capacity, !bytes.contains(0) else { return false }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            return true
        }
        guard fits else {
            throw UVError(code: -ENAMETOOLONG, operation: "socket path \(path) (at most \(capacity - 1) bytes)")
        }
        storage = address
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
