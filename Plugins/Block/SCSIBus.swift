import QMPPluginKit
import QMPWire

/// A SCSI host adapter a client plugs with `device_add` (`virtio-scsi-pci`,
/// `lsi53c895a`): the bus `scsi-hd` and `scsi-cd` sit on. Without one QEMU
/// 7.2 refuses them ("No 'SCSI' bus found for device 'scsi-hd'"), as it
/// does on a board with no adapter; libvirt plugs a `virtio-scsi-pci` first
/// and then its disks with `bus`, `channel`, `scsi-id` and `lun`.
///
/// The bus is named as qdev names it: `ID.0` for an adapter with an id,
/// else `scsi.N`, N counting the VM's unnamed SCSI buses of either kind.
struct SCSIController {
    enum Kind: String, CaseIterable {
        case virtio = "virtio-scsi-pci"
        case lsi = "lsi53c895a"

        /// The bus's `SCSIBusInfo`: virtio-scsi's `VIRTIO_SCSI_MAX_TARGET`
        /// and `VIRTIO_SCSI_MAX_LUN`, the LSI's `LSI_MAX_DEVS - 1` and one LUN.
        var maxTarget: UInt32 { self == .virtio ? 255 : 7 }
        var maxLun: UInt32 { self == .virtio ? 16383 : 0 }
        /// qdev properties the host lets through (its PCI ones besides).
        var properties: [String] {
            self == .virtio ? ["num_queues", "virtqueue_size", "max_sectors", "cmd_per_lun", "iothread", "hotplug", "param_change",
                               "vectors", "ioeventfd", "disable-legacy", "disable-modern"] : []
        }
    }

    let kind: Kind
    let id: String?
    let qomPath: String
    let busName: String
}

/// Where a SCSI disk sits: its adapter's bus and its address on it.
struct SCSIAddress: Equatable {
    let bus: String
    let channel: UInt32
    let target: UInt32
    let lun: UInt32
}

extension BlockPlugin {
    static func registerSCSIControllers(_ plugin: PluginRegistry<BlockPlugin>) {
        for kind in SCSIController.Kind.allCases {
            let properties: [JSONValue] = (["addr", "multifunction"] + kind.properties).map { ["name": .string($0), "type": "str"] }
            plugin.device(["name": .string(kind.rawValue), "parent": kind == .virtio ? "virtio-scsi-pci-base" : "pci-device",
                           "bus": "PCI", "hotpluggable": true, "properties": .array(properties)],
                          addDevice: { this, device, _ in this.addSCSIController(kind, device) },
                          remove: { this, id in this.removeSCSIController(id) })
        }
    }

    func addSCSIController(_ kind: SCSIController.Kind, _ device: NewDevice) -> Result<Void, QMPError> {
        let bus: String
        if let id = device.id {
            bus = "\(id).0"
        } else {
            bus = "scsi.\(anonymousSCSIBuses)"
            anonymousSCSIBuses += 1
        }
        scsiControllers.append(SCSIController(kind: kind, id: device.id, qomPath: device.qomPath, busName: bus))
        return .success(())
    }

    /// The adapter goes once the guest lets go, and its disks with it
    /// (each a DEVICE_DELETED before the adapter's, as qdev unrealizes
    /// children first).
    func removeSCSIController(_ idOrPath: String) -> Result<Void, QMPError> {
        guard let controller = scsiControllers.first(where: { $0.id == idOrPath || $0.qomPath == idOrPath }) else {
            return .failure(.deviceNotFound(idOrPath))
        }
        whenGuestLetsGo { [weak self] in
            guard let self, self.scsiControllers.contains(where: { $0.busName == controller.busName }) else { return }
            while let disk = self.graph.backends.first(where: { $0.device?.scsi?.bus == controller.busName })?.device {
                self.releaseDevice(disk.id ?? disk.path)
            }
            self.scsiControllers.removeAll { $0.busName == controller.busName }
            self.vm.deviceDeleted(idOrPath)
        }
        return .success(())
    }

    /// `scsi_qdev_realize`'s checks in its order: the bus (the newest
    /// adapter's when none is named), then the channel, target and LUN
    /// against the bus's bounds, then a free address: the first target
    /// with the LUN free, or the first free LUN of a given target.
    func scsiAddress(driver: String, _ props: JSONObject) -> Result<SCSIAddress, QMPError> {
        let controller: SCSIController
        if let name = props["bus"]?.stringValue {
            guard let found = scsiControllers.first(where: { $0.busName == name }) else {
                return .failure(.generic("Bus '\(name)' not found"))
            }
            controller = found
        } else {
            guard let newest = scsiControllers.last else { return .failure(.generic("No 'SCSI' bus found for device '\(driver)'")) }
            controller = newest
        }
        func number(_ name: String) -> Result<UInt32?, QMPError> {
            guard let text = props[name].flatMap(QemuOptsText.of) else { return .success(nil) }
            return QemuOptsText.uint32(text, name: name).map { $0 }
        }
        let channel: UInt32, target: UInt32?, lun: UInt32?
        switch (number("channel"), number("scsi-id"), number("lun")) {
        case (.failure(let error), _, _), (_, .failure(let error), _), (_, _, .failure(let error)): return .failure(error)
        case (.success(let c), .success(let t), .success(let l)): (channel, target, lun) = (c ?? 0, t, l)
        }
        let kind = controller.kind
        if channel > 0 { return .failure(.generic("bad scsi channel id: \(channel)")) }
        if let target, target > kind.maxTarget { return .failure(.generic("bad scsi device id: \(target)")) }
        if let lun, lun > kind.maxLun { return .failure(.generic("bad scsi device lun: \(lun)")) }
        let taken = graph.backends.compactMap { $0.device }.filter { $0.scsi?.bus == controller.busName }
        func holder(_ t: UInt32, _ l: UInt32) -> AttachedDevice? { taken.first { $0.scsi?.target == t && $0.scsi?.lun == l } }
        let address: (UInt32, UInt32)
        switch (target, lun) {
        case (nil, let lun):
            let lun = lun ?? 0
            guard let free = (0...kind.maxTarget).first(where: { holder($0, lun) == nil }) else {
                return .failure(.generic("no free target"))
            }
            address = (free, lun)
        case (let target?, nil):
            guard let free = (0...kind.maxLun).first(where: { holder(target, $0) == nil }) else {
                return .failure(.generic("no free lun"))
            }
            address = (target, free)
        case (let target?, let lun?):
            if let other = holder(target, lun) { return .failure(.generic("lun already used by '\(other.id ?? "(null)")'")) }
            address = (target, lun)
        }
        return .success(SCSIAddress(bus: controller.busName, channel: channel, target: address.0, lun: address.1))
    }
}
