#if canImport(Glibc)
import Glibc
#endif

/// What a `udp` chardev may name (`DatagramSetup`): the fleet sends
/// nothing anywhere but loopback and unix sockets (docs/security.md), where
/// QEMU 7.2 resolves any name and sends to any host.
///
/// A host is resolved only when `getaddrinfo` answers it without asking
/// the network: a numeric address (its own parse) or `localhost` (the
/// hosts file). Any other name is refused unresolved, since its lookup
/// would itself be traffic (DNS). The address a remote resolves to must be
/// loopback: 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into IPv6.
enum LoopbackOnly {
    /// Whether `host` is resolved with no lookup on the network.
    static func resolvesLocally(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Whether `address` (an `AF_INET` or `AF_INET6` socket address) is a
    /// loopback one.
    static func isLoopback(_ address: UnsafePointer<sockaddr>?) -> Bool {
        guard let address else { return false }
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        case AF_INET6:
            let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
            }
            let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
            let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
            return bytes == loopback || (Array(bytes[0..<12]) == mappedPrefix && bytes[12] == 127)
        default:
            return false
        }
    }

    /// The refusal of `host`, which is not a loopback address.
    static func refusal(_ host: String) -> SocketRefusal {
        SocketRefusal("udp chardevs send to loopback addresses only in this simulator: '\(host)' is not one")
    }
}
