import QMPPluginKit
import QMPWire

/// Guest block devices for device_add/device_del: attaching one connects a
/// backend (a `-drive` by name, or a node through a new anonymous backend);
/// unplugging detaches it, and the simulated guest lets go after a moment.
extension BlockPlugin {
    /// qdev properties the drivers accept (the host rejects others).
    static let commonProperties: [JSONValue] = [
        ["name": "drive", "type": "str"], ["name": "serial", "type": "str"], ["name": "bootindex", "type": "int32"],
        ["name": "share-rw", "type": "bool"], ["name": "write-cache", "type": "OnOffAuto"],
        ["name": "rerror", "type": "BlockdevOnError"], ["name": "werror", "type": "BlockdevOnError"],
        ["name": "logical_block_size", "type": "size"], ["name": "physical_block_size", "type": "size"],
    ]

    static func driverDescription(_ model: BlockDeviceModel) -> JSONValue {
        var properties = commonProperties
        switch model {
        case .virtioBlkPCI:
            properties += [["name": "addr", "type": "str"], ["name": "num-queues", "type": "uint16"], ["name": "iothread", "type": "str"]]
            return ["name": "virtio-blk-pci", "parent": "virtio-blk-pci-base", "bus": "PCI", "hotpluggable": true, "properties": .array(properties)]
        case .ideHD, .ideCD:
            properties += [["name": "unit", "type": "uint32"]]
            return ["name": .string(model.rawValue), "parent": "ide-device", "bus": "IDE", "hotpluggable": true, "properties": .array(properties)]
        case .scsiHD, .scsiCD:
            properties += [["name": "scsi-id", "type": "uint32"], ["name": "lun", "type": "uint32"], ["name": "channel", "type": "uint32"]]
            return ["name": .string(model.rawValue), "parent": "scsi-disk-base", "bus": "SCSI", "hotpluggable": true, "properties": .array(properties)]
        case .floppy:
            properties += [["name": "unit", "type": "uint32"]]
            return ["name": "floppy", "parent": "device", "bus": "floppy-bus", "hotpluggable": true, "properties": .array(properties)]
        }
    }

    static func registerDevices(_ plugin: PluginRegistry<BlockPlugin>) {
        for model in BlockDeviceModel.allCases {
            plugin.device(driverDescription(model),
                          addDevice: { this, device, props in this.plugDevice(model, device, props) },
                          remove: { this, id in this.unplugDevice(id) })
        }
    }

    /// The qdev property name in QEMU's messages (virtio-blk-pci forwards
    /// `drive` to its inner virtio-blk-device).
    static func propertyOwner(_ model: BlockDeviceModel) -> String {
        model == .virtioBlkPCI ? "virtio-blk-device" : model.rawValue
    }

    func plugDevice(_ model: BlockDeviceModel, _ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        let owner = BlockPlugin.propertyOwner(model)
        // A SCSI disk's bus and address come first, as `scsi_qdev_realize` runs before the disk's own realize.
        var scsi: SCSIAddress?
        if model == .scsiHD || model == .scsiCD {
            switch scsiAddress(driver: model.rawValue, props) {
            case .failure(let error): return .failure(error)
            case .success(let address): scsi = address
            }
        }
        guard let drive = props["drive"]?.stringValue else {
            guard model.hasMedia else { return .failure(.generic(model == .ideHD ? "No drive specified" : "drive property not set")) }
            var backend = BlockBackend(name: "", root: nil)
            backend.device = AttachedDevice(device, model: model, scsi: scsi)
            backend.readOnly = model.isCDROM
            graph.backends.append(backend)
            return .success(())
        }
        if let i = graph.backendIndex(named: drive) {
            if graph.backends[i].device != nil {
                return .failure(.generic("Property '\(owner).drive' can't take value '\(drive)', it's in use"))
            }
            if graph.backends[i].readOnly && !model.isCDROM && model != .floppy && model != .virtioBlkPCI && model != .scsiHD {
                return .failure(.generic("Block node is read-only"))
            }
            graph.backends[i].device = AttachedDevice(device, model: model, scsi: scsi)
            return .success(())
        }
        guard let node = graph.node(drive) else { return .failure(.generic("Property '\(owner).drive' can't find value '\(drive)'")) }
        if graph.backendIndex(rootedAt: drive) != nil {
            return .failure(.generic("Property '\(owner).drive' can't take value '\(drive)', it's in use"))
        }
        var backend = BlockBackend(name: "", root: drive)
        backend.readOnly = node.readOnly
        backend.device = AttachedDevice(device, model: model, scsi: scsi)
        graph.backends.append(backend)
        return .success(())
    }

    func unplugDevice(_ id: String) -> Result<Void, QMPError> {
        guard backendIndex(ofDevice: id) != nil else { return .failure(.deviceNotFound(id)) }
        whenGuestLetsGo { [weak self] in self?.releaseDevice(id) }
        return .success(())
    }

    /// Runs `release` once the simulated guest has let go of an unplugged
    /// device: at once with no `guest-delay-ms`, else after it.
    func whenGuestLetsGo(_ release: @escaping () -> Void) {
        let delay = config.guestDelayMilliseconds
        if delay == 0 { release() } else { vm.startTimer(afterMilliseconds: delay, release) }
    }

    /// The backend of the guest device `idOrPath` (its id or QOM path).
    func backendIndex(ofDevice idOrPath: String) -> Int? {
        graph.backends.firstIndex { $0.device?.id == idOrPath || $0.device?.path == idOrPath }
    }

    /// The guest let go of the device `idOrPath` (if it is still here): it
    /// leaves the graph, and a -drive goes with it (blockdev_auto_del); a
    /// node stays.
    func releaseDevice(_ idOrPath: String) {
        guard let i = backendIndex(ofDevice: idOrPath) else { return }
        let backend = graph.backends.remove(at: i)
        if let root = backend.root { graph.deleteNodeIfOrphan(root) }
        vm.deviceDeleted(idOrPath)
    }
}
