import QMPPluginKit
import QMPWire

/// `device_add`/`device_del` of CPUs with QEMU 7.2's checks and texts
/// (`pc_cpu_pre_plug`, `spapr_core_pre_plug`, their unplug requests).
extension CPUHotplugPlugin {
    func plugCPU(type: String, family driverFamily: CPUFamily, _ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        guard driverFamily == family else { return .failure(.generic("'\(type)' is not a valid device model name")) }
        guard hotplugSupported else { return .failure(.generic("Device '\(type)' can not be hotplugged on this machine")) }
        var ids: [String: Int64] = [:]
        for name in family.propertyNames {
            guard let value = props[name] else { continue }
            guard let n = value.int64Value else { return .failure(.generic("Parameter '\(name)' expects integer")) }
            ids[name] = n
        }
        let slot: CPUSlot
        switch family == .spapr ? spaprSlot(type: type, ids) : x86Slot(type: type, ids) {
        case .failure(let error): return .failure(error)
        case .success(let s): slot = s
        }
        if let node = ids["node-id"], node != (slot.props["node-id"]?.int64Value ?? 0) {
            return .failure(.generic("node-id=\(node) must match numa node specified with -numa option"))
        }
        realize(slot, as: .device(id: device.id), qomPath: device.qomPath)
        return .success(())
    }

    /// `pc_cpu_pre_plug`: type, then each id set and in range, then the slot.
    private func x86Slot(type: String, _ ids: [String: Int64]) -> Result<CPUSlot, QMPError> {
        guard type == cpuType else { return .failure(.generic("Invalid CPU type, expected cpu type: '\(cpuType)'")) }
        let t = topology
        let apicID: Int
        if let given = ids["apic-id"], ids["socket-id"] == nil, ids["core-id"] == nil, ids["thread-id"] == nil {
            apicID = Int(given)
        } else {
            let maxSocket = (t.maxCPUs - 1) / t.threads / t.cores
            var p = X86Position(socket: 0, core: 0, thread: 0)
            for (name, limit, keyPath) in [("socket", maxSocket, \X86Position.socket), ("core", t.cores - 1, \X86Position.core),
                                           ("thread", t.threads - 1, \X86Position.thread)] {
                guard let v = ids["\(name)-id"], v >= 0 else { return .failure(.generic("CPU \(name)-id is not set")) }
                guard v <= limit else { return .failure(.generic("Invalid CPU \(name)-id: \(v) must be in range 0:\(limit)")) }
                p[keyPath: keyPath] = Int(v)
            }
            apicID = t.apicID(p)
            guard slots.contains(where: { $0.apicID == apicID }) else {
                return .failure(.generic("Invalid CPU [socket: \(p.socket), die: 0, core: \(p.core), thread: \(p.thread)] with APIC ID \(apicID), valid index range 0:\(slots.count - 1)"))
            }
        }
        guard let slot = slots.first(where: { $0.apicID == apicID }) else {
            return .failure(.generic("Invalid CPU index [socket: 0, die: 0, core: 0, thread: 0] with APIC ID \(apicID), valid index range 0:\(slots.count - 1)"))
        }
        guard slot.occupant == nil else { return .failure(.generic("CPU[\(slot.index)] with APIC ID \(apicID) exists")) }
        return .success(slot)
    }

    /// `spapr_core_pre_plug`.
    private func spaprSlot(type: String, _ ids: [String: Int64]) -> Result<CPUSlot, QMPError> {
        guard type == cpuType else { return .failure(.generic("CPU core type should be \(cpuType)")) }
        let coreID = ids["core-id"] ?? -1
        if coreID % Int64(topology.threads) != 0 { return .failure(.generic("invalid core id \(coreID)")) }
        if let n = ids["nr-threads"], n != Int64(topology.threads) {
            return .failure(.generic("invalid nr-threads \(n), must be \(topology.threads)"))
        }
        guard let slot = slots.first(where: { Int64($0.firstCPUIndex) == coreID }) else {
            return .failure(.generic("core id \(coreID) out of range"))
        }
        guard slot.occupant == nil else { return .failure(.generic("core \(coreID) already populated")) }
        return .success(slot)
    }

    /// The unplug request. On x86 the ACPI device refuses CPUs until the
    /// guest's OS has switched it to modern CPU hot-plug; then the guest
    /// ejects the CPU a moment later.
    func unplugCPU(_ idOrPath: String) -> Result<Void, QMPError> {
        guard let slot = slots.first(where: { $0.deviceName == idOrPath || ($0.qomPath == idOrPath && $0.occupant != nil) }) else {
            return .failure(.deviceNotFound(idOrPath))
        }
        if family == .x86 {
            if slot.index == 0 { return .failure(.generic("Boot CPU is unpluggable")) }
            guard guestBooted else {
                return .failure(.generic("acpi: device unplug request for not supported device type: \(cpuType)"))
            }
        } else if slot.index == 0 {
            return .failure(.generic("Boot CPU core may not be unplugged"))
        }
        guard !slot.unplugRequested else { return .success(()) }
        slot.unplugRequested = true
        let name = slot.deviceName ?? idOrPath
        guest.whenRunning(on: vm) { [weak self] in
            guard let self else { return }
            self.vm.startTimer(afterMilliseconds: self.config.guestAckMilliseconds) { [weak self] in
                self?.eject(slot, reportedAs: name)
            }
        }
        return .success(())
    }

    private func eject(_ slot: CPUSlot, reportedAs name: String) {
        guard slot.unplugRequested else { return }
        slot.unplugRequested = false
        slot.occupant = nil
        slot.qomPath = nil
        if defaultCPU >= slot.firstCPUIndex && defaultCPU < slot.firstCPUIndex + slot.vcpus { defaultCPU = 0 }
        vm.deviceDeleted(name)
    }
}
