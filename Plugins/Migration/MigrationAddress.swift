#if canImport(Glibc)
import Glibc
#endif
import QMPWire

/// Where a migration stream goes or comes from: QEMU 7.2's `unix:PATH`,
/// `tcp:HOST:PORT` and `fd:NAME` URIs (migration/socket.c, fd.c).
///
/// TCP hosts are numeric IPv4 addresses (or `localhost`): a name lookup
/// would block the loop. `exec:` and `rdma:` are not simulated and are
/// refused as unknown protocols.
enum MigrationAddress: Equatable {
    case unix(path: String)
    case inet(host: String, port: UInt16)
    case fd(name: String)

    /// The longest unix socket path (`sun_path` less its NUL).
    static let maximumPathBytes = 107

    /// The address of `uri`; nil when the scheme is not one of these (each
    /// side words that error differently).
    static func parse(_ uri: String) -> Result<MigrationAddress, QMPError>? {
        if uri.hasPrefix("unix:") {
            let path = String(uri.dropFirst("unix:".count))
            guard !path.isEmpty else { return .failure(.generic("invalid Unix socket address")) }
            guard path.utf8.count <= maximumPathBytes else {
                return .failure(.generic("UNIX socket path '\(path)' is too long"))
            }
            return .success(.unix(path: path))
        }
        if uri.hasPrefix("tcp:") {
            let rest = uri.dropFirst("tcp:".count)
            guard let colon = rest.lastIndex(of: ":") else {
                return .failure(.generic("error parsing address '\(rest)'"))
            }
            let host = String(rest[..<colon]), portText = String(rest[rest.index(after: colon)...])
            guard let port = UInt16(portText) else {
                return .failure(.generic("error parsing port in address '\(rest)'"))
            }
            guard host == "localhost" || MigrationAddress.ipv4(host) != nil else {
                return .failure(.generic("address resolution failed for \(rest): Name or service not known"))
            }
            return .success(.inet(host: host, port: port))
        }
        if uri.hasPrefix("fd:") {
            return .success(.fd(name: String(uri.dropFirst("fd:".count))))
        }
        return nil
    }

    /// `in_addr` of a dotted quad (network order); nil otherwise.
    static func ipv4(_ host: String) -> in_addr? {
        var address = in_addr()
        let host = host == "localhost" ? "127.0.0.1" : host
        return inet_pton(AF_INET, host, &address) == 1 ? address : nil
    }

    /// How QEMU names the peer in "Failed to connect to '...'".
    var peerName: String {
        switch self {
        case .unix(let path): return path
        case .inet(let host, let port): return "\(host):\(port)"
        case .fd(let name): return name
        }
    }

    /// A `SocketAddress`, as the target's query-migrate lists its listeners.
    var socketAddress: JSONValue {
        switch self {
        case .unix(let path): return ["path": .string(path), "type": "unix"]
        case .inet(let host, let port): return ["port": .string(String(port)), "host": .string(host), "type": "inet"]
        case .fd(let name): return ["str": .string(name), "type": "fd"]
        }
    }
}
