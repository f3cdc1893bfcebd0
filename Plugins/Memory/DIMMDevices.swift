import QMPPluginKit
import QMPWire

/// `device_add`/`device_del` of `pc-dimm` and `nvdimm`, with QEMU 7.2's
/// checks in its order: the `memdev` link, the board's pre-plug
/// (`pc_memory_pre_plug`: nvdimm, slot, space, address), then realize
/// (busy backend, NUMA node).
extension MemoryPlugin {
    static func driverDescription(_ kind: DIMM.Kind) -> JSONValue {
        [
            "name": .string(kind.rawValue),
            "parent": kind == .dimm ? "device" : "pc-dimm",
            "hotpluggable": true,
            "properties": .array(kind.propertyNames.map { ["name": .string($0), "type": $0 == "memdev" ? "link<memory-backend>" : "any"] }),
        ]
    }

    /// The DIMM `device_del` names, by id or QOM path.
    func dimm(_ idOrPath: String) -> DIMM? {
        dimms.first { $0.id == idOrPath || $0.qomPath == idOrPath }
    }

    func plugDIMM(kind: DIMM.Kind, _ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        var reader = PropertyReader(props)
        // Properties are set before the board sees the device.
        var backend: MemoryBackend?
        if let value = props["memdev"] {
            guard let name = value.stringValue else {
                return .failure(.generic("Invalid parameter type for 'memdev', expected: string"))
            }
            let bare = name.hasPrefix("/objects/") ? String(name.dropFirst("/objects/".count)) : name
            guard let found = self.backend(bare) else { return .failure(.deviceNotFound(name)) }
            backend = found
        }
        let slotHint = reader.qdevInteger("slot")
        let node = reader.qdevInteger("node") ?? 0
        let addrHint = reader.qdevInteger("addr").map { UInt64(bitPattern: $0) }
        if let error = reader.error { return .failure(error) }

        guard layout.board != .none else {
            return .failure(.generic("Device '\(kind.rawValue)' can not be hotplugged on this machine"))
        }
        if kind == .nvdimm && !config.nvdimm {
            return .failure(.generic("nvdimm is not enabled: missing 'nvdimm' in '-M'"))
        }
        let slot: Int
        switch freeSlot(hint: slotHint.flatMap { $0 < 0 ? nil : Int($0) }) {
        case .failure(let error): return .failure(error)
        case .success(let s): slot = s
        }
        guard let window = layout.window else {
            return .failure(.generic("the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option"))
        }
        guard let backend else { return .failure(.generic("'memdev' property must be set")) }
        let allocator = DeviceMemoryAllocator(window: window, capacity: layout.maxMemoryBytes - layout.ramBytes, devices: dimms)
        if let error = allocator.checkAddable(size: backend.size) { return .failure(error) }
        let addr: UInt64
        switch allocator.address(size: backend.size, alignment: backend.dimmAlignment, hint: addrHint == 0 ? nil : addrHint) {
        case .failure(let error): return .failure(error)
        case .success(let a): addr = a
        }
        if backend.user != nil { return .failure(.generic("can't use already busy memdev: \(backend.id)")) }
        if (layout.numaNodes > 0 && node >= layout.numaNodes) || (layout.numaNodes == 0 && node != 0) || node < 0 {
            return .failure(.generic("'DIMM property node has value \(node)' which exceeds the number of numa nodes: \(layout.numaNodes)"))
        }
        let dimm = DIMM(id: device.id, kind: kind, qomPath: device.qomPath, slot: slot, addr: addr, node: Int(node), backend: backend)
        backend.user = dimm.qomPath
        dimms.append(dimm)
        if kind == .dimm { guestNoticesPlug(dimm) }
        return .success(())
    }

    /// `pc_dimm_get_free_slot`.
    func freeSlot(hint: Int?) -> Result<Int, QMPError> {
        guard layout.slots > 0 else {
            return .failure(.generic("no slots where allocated, please specify the 'slots' option"))
        }
        let used = Set(dimms.map(\.slot))
        if let hint {
            guard hint < layout.slots else {
                return .failure(.generic("invalid slot number \(hint), valid range is [0-\(layout.slots - 1)]"))
            }
            guard !used.contains(hint) else { return .failure(.generic("slot \(hint) is busy")) }
            return .success(hint)
        }
        guard let free = (0..<layout.slots).first(where: { !used.contains($0) }) else {
            return .failure(.generic("no free slots available"))
        }
        return .success(free)
    }

    /// Starts the unplug: the guest's ACPI answers later. A second request
    /// while one is pending is accepted and changes nothing, as in QEMU.
    func unplugDIMM(_ idOrPath: String) -> Result<Void, QMPError> {
        guard let dimm = dimm(idOrPath) else { return .failure(.deviceNotFound(idOrPath)) }
        guard dimm.kind == .dimm else { return .failure(.generic("nvdimm device hot unplug is not supported yet.")) }
        guard !dimm.unplugRequested else { return .success(()) }
        dimm.unplugRequested = true
        guestHandlesEjectRequest(dimm)
        return .success(())
    }

    /// The board lets go of a DIMM: slot, range and backend are free again.
    func release(_ dimm: DIMM) {
        dimms.removeAll { $0 === dimm }
        dimm.backend.user = nil
        vm.deviceDeleted(dimm.id ?? dimm.qomPath)
    }
}
