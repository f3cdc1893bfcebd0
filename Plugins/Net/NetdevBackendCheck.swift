import QMPPluginKit
import QMPWire

/// What QEMU's `net_client_init` checks for each backend type beyond the
/// schema, with its texts. Nothing here opens a host resource: a backend
/// that QEMU would create succeeds, one QEMU refuses fails the same way.
enum NetdevBackendCheck {
    /// Backends this QEMU build refuses outright.
    static let notCompiled: Set<QAPI.NetClientDriver> = [.none, .nic, .netmap]

    static func check(_ netdev: QAPI.Netdev) -> QMPError? {
        if notCompiled.contains(netdev.type) {
            return .generic("network backend '\(netdev.type.rawValue)' is not compiled into this binary")
        }
        switch netdev.variant {
        case .socket(let options): return socket(options)
        case .dgram(let options): return dgram(options)
        case .user(let options): return user(options)
        case .vde: return .generic("Could not open vde: No such file or directory")
        // QEMU runs qemu-bridge-helper, which attaches a tap only to a bridge
        // /etc/qemu/bridge.conf allows; a simulated VM joins no host bridge,
        // so it answers as QEMU on a host that allows none (the default).
        case .bridge: return .generic("bridge helper failed")
        case .vhostVdpa(let options):
            if options.vhostdev == nil && options.vhostfd == nil {
                return .generic("vhost-vdpa: neither vhostdev= nor vhostfd= was specified")
            }
            return nil
        default: return nil
        }
    }

    private static func socket(_ o: QAPI.NetdevSocketOptions) -> QMPError? {
        let modes = [o.fd, o.listen, o.connect, o.mcast, o.udp].compactMap { $0 }
        guard modes.count == 1 else { return .generic("exactly one of listen=, connect=, mcast= or udp= is required") }
        if o.localaddr != nil && o.mcast == nil && o.udp == nil {
            return .generic("localaddr= is only valid with mcast= or udp=")
        }
        if o.udp != nil && o.localaddr == nil {
            return .generic("localaddr= is mandatory with udp=")
        }
        return nil
    }

    private static func dgram(_ o: QAPI.NetdevDgramOptions) -> QMPError? {
        guard let local = o.local else { return .generic("dgram requires local= parameter") }
        if o.remote == nil && (local.type == .inet || local.type == .unix) {
            return .generic("type=inet or type=unix requires remote parameter")
        }
        return nil
    }

    private static func user(_ o: QAPI.NetdevUserOptions) -> QMPError? {
        for rule in o.hostfwd ?? [] where !rule.str.contains(":") {
            return .generic("Invalid host forwarding rule '\(rule.str)' (No : separators)")
        }
        return nil
    }
}
