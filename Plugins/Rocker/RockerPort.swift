import QMPWire

/// A front-panel port. QEMU names it "<switch>p<n>" (n from 1) and resets
/// it to disabled, 10 Gb/s, full duplex, autoneg off; the guest driver
/// enables it. Its link is the port NIC's: down while it has no peer.
struct RockerPort {
    enum Duplex: String { case half, full }
    enum Autoneg: String { case off, on }

    /// `fp_port_reset`'s speed, in Mb/s.
    static let resetSpeed: UInt32 = 10000

    let name: String
    var enabled = false
    var linkUp = false
    var speed = RockerPort.resetSpeed
    var duplex = Duplex.full
    var autoneg = Autoneg.off

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

    /// Applies `enabled`, `link-up`, `speed`, `duplex`, `autoneg` when present.
    mutating func apply(_ settings: JSONObject) throws(RockerFault) {
        if let v = settings["enabled"] {
            guard let b = v.boolValue else { throw .invalid("'enabled' must be a bool") }
            enabled = b
        }
        if let v = settings["link-up"] {
            guard let b = v.boolValue else { throw .invalid("'link-up' must be a bool") }
            linkUp = b
        }
        if let v = try RockerValue.field(settings, "speed", as: UInt32.self) { speed = v }
        if let v = settings["duplex"] {
            guard let d = v.stringValue.flatMap(Duplex.init(rawValue:)) else { throw .invalid("'duplex' must be half or full") }
            duplex = d
        }
        if let v = settings["autoneg"] {
            guard let a = v.stringValue.flatMap(Autoneg.init(rawValue:)) else { throw .invalid("'autoneg' must be off or on") }
            autoneg = a
        }
    }

    var json: JSONValue {
        ["name": .string(name), "enabled": .bool(enabled), "link-up": .bool(linkUp), "speed": .uint(UInt64(speed)),
         "duplex": .string(duplex.rawValue), "autoneg": .string(autoneg.rawValue)]
    }
}
