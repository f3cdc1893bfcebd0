/// Which commands a proxied VM's clients may send to the real QEMU.
///
/// A metrics agent or a human with qmp-shell should not be able to `quit`
/// the VM an orchestrator manages: a read-only VM takes only `query-*`
/// commands and the allow list; the deny list applies to everyone. The
/// config sets it; the Proxy module enforces it (`refusal(of:vm:)`).
public struct ProxyPolicy: Sendable, Equatable {
    public var readOnly = false
    public var allow: Set<String> = []
    public var deny: Set<String> = []

    public init() {}
}

/// How a proxied VM reaches its QEMU.
public struct ProxyUpstream: Sendable, Equatable {
    /// The real QEMU's QMP socket.
    public var socketPath: String
    /// A command line the fleet starts itself, `-qmp unix:<socketPath>,server=on,wait=off` appended.
    public var launch: [String]?
    /// Retry interval after the upstream went away; nil: do not reconnect.
    public var reconnectMilliseconds: UInt64?
    public var policy = ProxyPolicy()

    public init(socketPath: String) { self.socketPath = socketPath }
}
