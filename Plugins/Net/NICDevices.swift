import QMPPluginKit
import QMPWire

/// The NIC drivers for device_add/device_del: binding to a backend with
/// `netdev=`, the MAC with `mac=`, and the guest letting go on unplug.
extension NetPlugin {
    /// How long the simulated guest takes to release an unplugged NIC.
    static let guestUnplugMilliseconds: UInt64 = 50

    static func driverDescription(_ model: NICModel) -> JSONValue {
        [
            "name": .string(model.rawValue),
            "parent": model == .virtioNetPCI ? "virtio-net-pci-base-type" : "pci-device",
            "bus": "PCI",
            "hotpluggable": true,
            "properties": .array(model.propertyNames.map { name in
                ["name": .string(name), "type": name == "mac" ? "str" : (name == "netdev" ? "str" : "any")]
            }),
        ]
    }

    /// Creates a NIC: the backend must exist and be free, the MAC valid.
    func addNIC(model: NICModel, _ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        var backend: Netdev?
        if let name = props["netdev"].flatMap(QemuOptsText.of) {
            guard let found = netdev(name) else {
                return .failure(.generic("Property '\(model.propertyOwner).netdev' can't find value '\(name)'"))
            }
            guard found.peerName == nil else {
                return .failure(.generic("Property '\(model.propertyOwner).netdev' can't take value '\(name)', it's in use"))
            }
            backend = found
        }
        var mac: MACAddress?
        if let text = props["mac"].flatMap(QemuOptsText.of) {
            guard let parsed = MACAddress(parsing: text) else {
                return .failure(.generic("Property '\(model.propertyOwner).mac' doesn't take value '\(text)'"))
            }
            mac = parsed.isZero ? nil : parsed
        }
        guard let address = mac ?? freeDefaultMAC() else {
            return .failure(.generic("No free MAC address in 52:54:00:12:34:56-ff"))
        }
        let name = device.id ?? "\(model.rawValue).\(nics.filter { $0.model == model }.count)"
        let nic = NIC(device, name: name, model: model, mac: address, netdev: backend)
        backend?.peerName = name
        nic.created = nextClientNumber
        nextClientNumber += 1
        nics.append(nic)
        return .success(())
    }

    /// Starts the unplug; the guest releases the card a moment later.
    func removeNIC(_ idOrPath: String) -> Result<Void, QMPError> {
        vm.unplug(idOrPath, from: nics, afterMilliseconds: NetPlugin.guestUnplugMilliseconds) { [weak self] nic in
            self?.nics.removeAll { $0 === nic }
            if let backend = nic.netdev, backend.peerName == nic.name { backend.peerName = nil }
        }
    }

    /// `qemu_macaddr_get_free`: the lowest 52:54:00:12:34:xx no NIC has.
    func freeDefaultMAC() -> MACAddress? {
        let used = Set(nics.map(\.mac))
        for last in MACAddress.firstDefaultLastByte...UInt8.max {
            let candidate = MACAddress.qemuDefault(lastByte: last)
            if !used.contains(candidate) { return candidate }
        }
        return nil
    }
}

extension NIC: PeripheralDevice {
    var deviceID: String? { id }
}
