import FleetCore
import QAPIRuntime
import QMPWire

/// `fault-add`, `fault-remove` and `query-faults`.
///
/// Every shard keeps the same list of fault rules and arms each on its own
/// VMs, on its own loop. The control plane's shard (shard 0) changes its
/// list at once, so ids and `faults-per-fleet` are checked against one
/// list that every command sees in order; the other shards follow.
extension ControlPlane {
    /// `members` are the request's, as given: a fault is parsed by the one
    /// reader the config file's `faults:` use.
    func addFault(_ args: QAPI.Control.FaultAddCommand, members: JSONObject, _ complete: @escaping (CommandResult) -> Void) {
        let spec: FaultSpec
        do {
            spec = try FaultSpec.parse(ConfigReader(file: "fault-add", value: .object(members)), defaultID: unusedFaultID())
        } catch {
            return complete(.failure(.generic(error.description)))
        }
        let named = args.id != nil
        guard let vm = spec.vm else { return arm(spec, named: named, complete) }
        // The VM's own shard says whether it is one faults act on.
        onOwner(of: vm, { shard, done in
            if shard.vms[vm] != nil { return done(.ok) }
            if shard.proxies[vm] != nil {
                return done(.failure(.generic("VM '\(vm)' is a proxied QEMU: faults act on simulated VMs")))
            }
            done(.failure(.generic("VM '\(vm)' not found")))
        }, { [weak self] found in
            guard case .success = found else { return complete(found) }
            self?.arm(spec, named: named, complete)
        })
    }

    /// Checks the id and the limit against the list every fault command
    /// sees in order (this shard's), then arms the fault everywhere.
    private func arm(_ spec: FaultSpec, named: Bool, _ complete: @escaping (CommandResult) -> Void) {
        var spec = spec
        if !named { spec.id = unusedFaultID() }  // now: another fault-add may have come first
        guard !owner.faultRules.contains(where: { $0.id == spec.id }) else {
            return complete(.failure(.generic("Fault '\(spec.id)' already exists")))
        }
        guard owner.faultRules.count < owner.config.limits.faultsPerFleet else {
            return complete(.failure(.generic("the fleet has \(owner.faultRules.count) faults (limit faults-per-fleet)")))
        }
        owner.addFaultRule(spec)
        let answer = FaultReport(spec: spec, firedByVM: [:]).info
        owner.onOtherShards({ $0.addFaultRule(spec) }) { complete(.success(answer)) }
    }

    func removeFault(id: String, _ complete: @escaping (CommandResult) -> Void) {
        guard owner.removeFaultRule(id: id) else { return complete(.failure(.generic("Fault '\(id)' not found"))) }
        owner.onOtherShards({ _ = $0.removeFaultRule(id: id) }) { complete(.ok) }
    }

    /// Every rule, in the order added, with its firings summed over the shards.
    func queryFaults(_ complete: @escaping (CommandResult) -> Void) {
        let merge = { (parts: [[FaultReport]]) in
            var reports = parts.first ?? []
            let position = Dictionary(reports.enumerated().map { ($1.spec.id, $0) }, uniquingKeysWith: { first, _ in first })
            for part in parts.dropFirst() {
                for other in part {
                    // A rule another shard has yet to add or remove is this shard's list's business.
                    guard let i = position[other.spec.id] else { continue }
                    reports[i].firedByVM.merge(other.firedByVM, uniquingKeysWith: +)
                    reports[i].firedOnEndedVMs += other.firedOnEndedVMs
                }
            }
            complete(.success(.array(reports.map(\.info))))
        }
        owner.onEveryShard({ $0.faultReport() }, then: merge)
    }

    /// `fault-<n>` with the first n no rule has.
    private func unusedFaultID() -> String {
        let taken = Set(owner.faultRules.map(\.id))
        var n = taken.count
        while taken.contains("fault-\(n)") { n += 1 }
        return "fault-\(n)"
    }
}
