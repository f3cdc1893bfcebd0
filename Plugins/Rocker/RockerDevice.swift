import QMPPluginKit
import QMPWire

/// The `rocker` PCI device: its properties, QEMU's realize checks, and
/// device_add/device_del.
extension RockerPlugin {
    /// QEMU's `ROCKER_FP_PORTS_MAX`: len-ports above it is cut down to it.
    static let maxPorts: UInt32 = 62
    /// `MAX_ROCKER_NAME_LEN`: IFNAMSIZ less room for "p##" and "b##".
    static let maxNameLength = 9
    /// The only OF-DPA world QEMU has.
    static let worldName = "ofdpa"
    /// The first switch's default front-panel MAC; each further switch
    /// without one adds 1 to its fifth byte (QEMU's static `sw_index`).
    static let defaultMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x35, 0x01]
    /// How long the simulated guest takes to release an unplugged switch.
    static let guestUnplugMilliseconds: UInt64 = 50

    static let propertyNames = ["name", "world", "fp_start_macaddr", "switch_id", "len-ports"]

    static var driverDescription: JSONValue {
        [
            "name": "rocker", "parent": "pci-device", "bus": "PCI", "hotpluggable": true,
            "properties": [
                ["name": "name", "type": "str"], ["name": "world", "type": "str"],
                ["name": "fp_start_macaddr", "type": "str"], ["name": "switch_id", "type": "uint64"],
                ["name": "len-ports", "type": "uint32"],
            ],
        ]
    }

    /// Realizes a switch from its properties, in QEMU's order of checks.
    func realizeSwitch(_ device: NewDevice, _ props: JSONObject) -> Result<RockerSwitch, QMPError> {
        var text: [String: String] = [:]
        for (key, value) in props { text[key] = QemuOptsText.of(value) }
        var portCount: UInt32 = 0
        if let value = text["len-ports"] {
            switch QemuOptsText.uint32(value, name: "len-ports") {
            case .success(let fitted): portCount = fitted
            case .failure(let error): return .failure(error)
            }
        }
        var switchID: UInt64 = 0
        if let value = text["switch_id"] {
            guard let n = UInt64(value) ?? Int64(value).map({ UInt64(bitPattern: $0) }) else {
                return .failure(.generic("Parameter 'switch_id' expects integer"))
            }
            switchID = n
        }
        var mac = MACAddress.zero
        if let value = text["fp_start_macaddr"] {
            guard let parsed = MACAddress(parsing: value) else {
                return .failure(.generic("Property 'rocker.fp_start_macaddr' doesn't take value '\(value)'"))
            }
            mac = parsed
        }
        if let world = text["world"], world != RockerPlugin.worldName {
            return .failure(.generic("invalid argument requested world \(world) does not exist"))
        }
        let name = text["name"] ?? "rocker"
        guard rockerSwitch(name) == nil else { return .failure(.generic("\(name) already exists")) }
        guard name.utf8.count <= RockerPlugin.maxNameLength else {
            return .failure(.generic("name too long; please shorten to at most \(RockerPlugin.maxNameLength) chars"))
        }
        if mac.isZero {
            var bytes = RockerPlugin.defaultMAC
            bytes[4] &+= UInt8(truncatingIfNeeded: defaultMACIndex)
            defaultMACIndex += 1
            mac = MACAddress(bytes: bytes)
        }
        if switchID == 0 { switchID = mac.littleEndianValue }
        return .success(RockerSwitch(name: name, switchID: switchID, portCount: Int(min(portCount, RockerPlugin.maxPorts)),
                                     deviceID: device.id, qomPath: device.qomPath))
    }

    func addDevice(_ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        realizeSwitch(device, props).map { switches.append($0) }
    }

    /// device_del: the guest lets go of the switch a moment later.
    func removeDevice(_ idOrPath: String) -> Result<Void, QMPError> {
        vm.unplug(idOrPath, from: switches, afterMilliseconds: RockerPlugin.guestUnplugMilliseconds) { [weak self] sw in
            self?.switches.removeAll { $0 === sw }
        }
    }
}

extension RockerSwitch: PeripheralDevice {}
