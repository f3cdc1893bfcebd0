import QMPPluginKit
import QMPWire

/// A front-panel port. QEMU names it "<switch>p<n>" (n from 1) and resets
/// it to disabled, 10 Gb/s, full duplex, autoneg off; the guest driver
/// enables it. Its link is the port NIC's: down while it has no peer.
struct RockerPort {
    /// `fp_port_reset`'s speed, in Mb/s.
    static let resetSpeed: UInt32 = 10000

    let name: String
    var enabled = false
    var linkUp = false
    var speed = RockerPort.resetSpeed
    var duplex = QAPI.RockerPortDuplex.full
    var autoneg = QAPI.RockerPortAutoneg.off

    init(switchName: String, index: Int) {
        name = "\(switchName)p\(index + 1)"
    }

    /// What the guest's reset leaves; the link belongs to the wire, not the port.
    mutating func reset() {
        enabled = false
        speed = RockerPort.resetSpeed
        duplex = .full
        autoneg = .off
    }

    /// Applies the port-settings members that are present (the schema's
    /// types: the host or the config's decoder has checked them).
    mutating func apply(_ settings: QAPI.PortSettingsGuestAction) throws(RockerFault) {
        if let v = settings.enabled { enabled = v }
        if let v = try RockerValue.narrow(settings.speed, "speed", as: UInt32.self) { speed = v }
        if let v = settings.duplex { duplex = v }
        if let v = settings.autoneg { autoneg = v }
    }

    var json: JSONValue {
        ["name": .string(name), "enabled": .bool(enabled), "link-up": .bool(linkUp), "speed": .uint(UInt64(speed)),
         "duplex": .string(duplex.rawValue), "autoneg": .string(autoneg.rawValue)]
    }
}
