#if canImport(Glibc)
import Glibc
#endif

/// A numeric TCP endpoint: `127.0.0.1:9464`, `[::1]:9464`, or `localhost:9464`
/// (taken as 127.0.0.1, never looked up: resolving a name could block).
///
/// Only literal addresses, so parsing never touches the network and the
/// loopback check (`isLoopback`) is exact.
public struct TCPAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host as given (without brackets), e.g. `127.0.0.1` or `::1`.
    public let host: String
    public let port: UInt16
    private let isIPv6: Bool

    /// Parses `HOST:PORT`; the port must be 0...65535 (0: the kernel picks).
    public init(parsing text: String) throws(UVError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw UVError(code: -EINVAL, operation: "address \(text): expected [IPv6]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw UVError(code: -EINVAL, operation: "address \(text): expected HOST:PORT")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else {
                throw UVError(code: -EINVAL, operation: "address \(text): an IPv6 address goes in brackets, [::1]:PORT")
            }
        }
        guard portText.count <= 5, let port = Int(portText), (0...65535).contains(port) else {
            throw UVError(code: -EINVAL, operation: "address \(text): the port must be 0 to 65535")
        }
        let literal = host == "localhost" ? "127.0.0.1" : String(host)
        var probe4 = in_addr()
        var probe6 = in6_addr()
        if inet_pton(AF_INET, literal, &probe4) == 1 {
            isIPv6 = false
        } else if inet_pton(AF_INET6, literal, &probe6) == 1 {
            isIPv6 = true
        } else {
            throw UVError(code: -EINVAL, operation: "address \(text): \(host) is not a numeric IPv4 or IPv6 address")
        }
        self.host = literal
        self.port = UInt16(port)
    }

    private init(host: String, port: UInt16, isIPv6: Bool) {
        self.host = host
        self.port = port
        self.isIPv6 = isIPv6
    }

    /// The same host with another port (the one the kernel picked for port 0).
    public func with(port: UInt16) -> TCPAddress { TCPAddress(host: host, port: port, isIPv6: isIPv6) }

    /// 127.0.0.0/8 or ::1: reachable from this machine only.
    public var isLoopback: Bool {
        if isIPv6 { return host == "::1" || host == "0:0:0:0:0:0:0:1" }
        return host.hasPrefix("127.")
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    /// The socket address, for `bind`.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
