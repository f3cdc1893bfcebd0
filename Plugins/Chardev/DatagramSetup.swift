#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// A `udp` chardev's socket, made on a worker as QEMU 7.2's
/// `inet_dgram_saddr` makes it: the remote address resolved (a host name
/// may need DNS, which blocks), a local one bound (port 0, any address,
/// unless the client named one; `SO_REUSEADDR` as QEMU sets it), then the
/// socket connected to the remote, so the kernel sends to no other peer
/// and delivers datagrams from no other. Error texts are QEMU's.
///
/// Unlike QEMU, it sends to loopback only (docs/security.md: the fleet's
/// traffic stays on loopback and unix sockets): a host must be a number or
/// `localhost` (`LoopbackOnly`), so no name is looked up in DNS, and the
/// remote address it resolves to must be a loopback one. A local address
/// is only bound, so any number will do there.
final class DatagramSetup: @unchecked Sendable {
    /// What QEMU reads of an address: `socket_dgram` checks only that the
    /// remote is inet; a local address of another type is read through
    /// the union as if it were inet (a unix path as the host, no port).
    struct Endpoint: Sendable {
        var host: String?
        var port: String?
        var ipv4: Bool?
        var ipv6: Bool?
    }

    private let remote: Endpoint
    private let local: Endpoint?
    private var fd: Int32 = -1
    /// Why it failed, in QEMU's words (nil: it did not).
    private(set) var failure: String?

    private init(remote: Endpoint, local: Endpoint?) {
        self.remote = remote
        self.local = local
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// The setup for `udp`, or QEMU's refusal of a remote that is not inet.
    static func prepare(_ udp: QAPI.ChardevUdp) -> Result<DatagramSetup, QMPError> {
        guard case .inet(let remote) = udp.remote.variant else {
            return .failure(.generic("socket type unsupported for datagram"))
        }
        return .success(DatagramSetup(remote: endpoint(remote.data), local: udp.local.map(endpoint)))
    }

    private static func endpoint(_ inet: QAPI.InetSocketAddress) -> Endpoint {
        Endpoint(host: inet.host, port: inet.port, ipv4: inet.ipv4, ipv6: inet.ipv6)
    }

    private static func endpoint(_ address: QAPI.SocketAddressLegacy) -> Endpoint {
        switch address.variant {
        case .inet(let inet): endpoint(inet.data)
        case .unix(let unix): Endpoint(host: unix.data.path)
        case .vsock(let vsock): Endpoint(host: vsock.data.cid, port: vsock.data.port)
        case .fd(let fd): Endpoint(host: fd.data.str)
        }
    }

    /// The descriptor, now the caller's; nil when `run()` failed.
    func take() -> Int32? {
        guard fd >= 0 else { return nil }
        defer { fd = -1 }
        return fd
    }

    /// Resolves, binds and connects. Blocking: on a worker only.
    func run() {
        switch make() {
        case .success(let made): fd = made
        case .failure(let refusal): failure = refusal.text
        }
    }

    /// QEMU's `inet_ai_family_from_address`.
    private static func family(_ address: Endpoint) -> Result<Int32, SocketRefusal> {
        switch (address.ipv4, address.ipv6) {
        case (.some(false), .some(false)): .failure(SocketRefusal("Cannot disable IPv4 and IPv6 at same time"))
        case (.some(true), .some(true)): .success((address.host ?? "").isEmpty ? AF_INET6 : AF_UNSPEC)
        case (_, .some(true)), (.some(false), _): .success(AF_INET6)
        case (.some(true), _), (_, .some(false)): .success(AF_INET)
        case (nil, nil): .success(AF_UNSPEC)
        }
    }

    private func make() -> Result<Int32, SocketRefusal> {
        let family: Int32
        switch Self.family(remote) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let f): family = f
        }
        let host = (remote.host ?? "").isEmpty ? "localhost" : remote.host!
        guard let port = remote.port, !port.isEmpty else { return .failure(SocketRefusal("remote port not specified")) }
        guard LoopbackOnly.resolvesLocally(host) else { return .failure(LoopbackOnly.refusal(host)) }
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME | AI_V4MAPPED | AI_ADDRCONFIG
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        let peer: UnsafeMutablePointer<addrinfo>
        switch Self.resolve(host, port, hints) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let found): peer = found
        }
        defer { freeaddrinfo(peer) }
        guard LoopbackOnly.isLoopback(peer.pointee.ai_addr) else { return .failure(LoopbackOnly.refusal(host)) }
        var localHints = addrinfo()
        localHints.ai_flags = AI_PASSIVE
        localHints.ai_family = peer.pointee.ai_family
        localHints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        let localHost = local?.host.flatMap { $0.isEmpty ? nil : $0 }
        let localPort = local?.port.flatMap { $0.isEmpty ? nil : $0 } ?? "0"
        if let localHost, !LoopbackOnly.resolvesLocally(localHost) { return .failure(LoopbackOnly.refusal(localHost)) }
        let bound: UnsafeMutablePointer<addrinfo>
        switch Self.resolve(localHost, localPort, localHints) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let found): bound = found
        }
        defer { freeaddrinfo(bound) }
        let fd = socket(peer.pointee.ai_family, peer.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                        peer.pointee.ai_protocol)
        guard fd >= 0 else {
            return .failure(SocketRefusal("Failed to create socket family \(peer.pointee.ai_family): \(HostFile.errorText)"))
        }
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        func failed(_ text: String) -> Result<Int32, SocketRefusal> {
            let reason = HostFile.errorText
            Glibc.close(fd)
            return .failure(SocketRefusal("\(text): \(reason)"))
        }
        guard bind(fd, bound.pointee.ai_addr, bound.pointee.ai_addrlen) == 0 else { return failed("Failed to bind socket") }
        // QEMU names the local host and port here (its variables by then).
        guard Glibc.connect(fd, peer.pointee.ai_addr, peer.pointee.ai_addrlen) == 0 else {
            return failed("Failed to connect to '\(localHost ?? "(null)"):\(localPort)'")
        }
        return .success(fd)
    }

    /// `getaddrinfo`, with QEMU's text when it fails (a missing host is
    /// printed as glib prints a null string).
    private static func resolve(_ host: String?, _ port: String, _ hints: addrinfo) -> Result<UnsafeMutablePointer<addrinfo>, SocketRefusal> {
        var hints = hints
        var found: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port, &hints, &found)
        guard rc == 0, let found else {
            return .failure(SocketRefusal("address resolution failed for \(host ?? "(null)"):\(port): \(String(cString: gai_strerror(rc)))"))
        }
        return .success(found)
    }
}
