import QMPWire

/// The seed's `cpu` and `cpu-add` (QEMU 2.x; 7.2 removed both).
extension CPUHotplugPlugin {
    /// `cpu`: selects the CPU human monitor commands act on.
    func selectCPU(_ index: Int64) -> Result<JSONValue, QMPError> {
        guard index >= 0, presentCPUIndexes.contains(Int(index)) else {
            return .failure(.generic("Invalid parameter 'index'"))
        }
        defaultCPU = Int(index)
        return .success(.object([:]))
    }

    /// `cpu-add`: plugs the CPU at possible-CPU index `id` (`pc_hot_add_cpu`
    /// of QEMU 2.8); boards without that hook answer "Not supported".
    func cpuAdd(_ id: Int64) -> Result<JSONValue, QMPError> {
        guard family == .x86, hotplugSupported else { return .failure(.generic("Not supported")) }
        guard id >= 0 else { return .failure(.generic("Invalid CPU id: \(id)")) }
        guard id < Int64(slots.count) else {
            // The topology of an index past maxcpus, as QEMU 2.8 reported it.
            let p = topology.x86Position(Int(min(id, Int64(Int32.max))))
            return .failure(.generic("Invalid CPU [socket: \(p.socket), core: \(p.core), thread: \(p.thread)] with APIC ID \(topology.apicID(p)), valid index range 0:\(slots.count - 1)"))
        }
        let slot = slots[Int(id)]
        guard slot.occupant == nil else { return .failure(.generic("CPU[\(slot.index)] with APIC ID \(slot.apicID) exists")) }
        realize(slot, as: .cpuAdd, qomPath: "/machine/unattached/device[\(nextUnattached)]")
        nextUnattached += 1
        return .success(.object([:]))
    }
}
