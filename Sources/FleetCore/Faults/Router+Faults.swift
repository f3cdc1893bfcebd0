import QMPWire

extension Router {
    /// Arms every fault rule that covers `vm` on it: called once the VM
    /// exists, so a VM created later (or again under the same name) gets
    /// the fleet-wide faults and its own.
    func armFaults(on vm: VM) {
        for spec in faultRules where spec.covers(vm: vm.name) {
            if vm.faults == nil { vm.faults = VMFaults() }
            vm.faults?.add(spec)
        }
    }

    /// A new rule: kept for VMs created later and armed on this router's VMs now.
    package func addFaultRule(_ spec: FaultSpec) {
        faultRules.append(spec)
        if let name = spec.vm {
            if let vm = vms[name] { arm(spec, on: vm) }
        } else {
            for vm in vms.values { arm(spec, on: vm) }
        }
    }

    private func arm(_ spec: FaultSpec, on vm: VM) {
        if vm.faults == nil { vm.faults = VMFaults() }
        vm.faults?.add(spec)
    }

    /// A VM ends: what its faults fired still counts in `query-faults`.
    func retireFaults(of vm: VM) {
        guard let faults = vm.faults else { return }
        for fault in faults.armed where fault.fired > 0 {
            retiredFaultFirings[fault.spec.id, default: 0] += fault.fired
        }
        vm.faults = nil
    }

    /// Drops rule `id` and disarms it on this router's VMs; true when it was here.
    package func removeFaultRule(id: String) -> Bool {
        let before = faultRules.count
        faultRules.removeAll { $0.id == id }
        retiredFaultFirings[id] = nil
        for vm in vms.values {
            guard let faults = vm.faults else { continue }
            faults.remove(id: id)
            if faults.isEmpty { vm.faults = nil }
        }
        return faultRules.count != before
    }

    /// This router's part of `query-faults`: each rule with how often it
    /// fired on this router's VMs, by VM.
    package func faultReport() -> [FaultReport] {
        var firings: [String: [String: Int]] = [:]
        for vm in vms.values {
            for fault in vm.faults?.armed ?? [] where fault.fired > 0 {
                firings[fault.spec.id, default: [:]][vm.name] = fault.fired
            }
        }
        return faultRules.map {
            FaultReport(spec: $0, firedByVM: firings[$0.id] ?? [:], firedOnEndedVMs: retiredFaultFirings[$0.id] ?? 0)
        }
    }
}

/// One rule with how often it fired, by VM: what a router gives
/// `query-faults`, merged over every router of a sharded fleet.
package struct FaultReport: Sendable {
    package let spec: FaultSpec
    /// Firings on the VMs that exist.
    package var firedByVM: [String: Int]
    /// Firings on VMs that have ended since.
    package var firedOnEndedVMs = 0

    package init(spec: FaultSpec, firedByVM: [String: Int], firedOnEndedVMs: Int = 0) {
        self.spec = spec
        self.firedByVM = firedByVM
        self.firedOnEndedVMs = firedOnEndedVMs
    }

    /// `query-faults`' entry: `fired` counts every VM, ended ones too;
    /// `fired-by-vm` the VMs that exist.
    package var info: JSONValue {
        var o = spec.info
        let fired = firedByVM.values.reduce(firedOnEndedVMs, +)
        o["fired"] = .int(Int64(fired))
        o["fired-by-vm"] = .object(JSONObject(firedByVM.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.int(Int64($0.value))) }))
        // Per VM: the named VM's own count (a VM made again under its name starts afresh).
        if let times = spec.times, let vm = spec.vm { o["remaining"] = .int(Int64(max(0, times - (firedByVM[vm] ?? 0)))) }
        return .object(o)
    }
}
