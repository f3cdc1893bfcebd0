import FleetCore
import QMPServer
import QMPWire

/// `vm-create`s of one control client in flight together.
///
/// The session runs a client's requests one at a time, as a QEMU monitor
/// does; a VM made on another loop then left the control socket's loop
/// idle until it answered, so 10,000 pipelined `vm-create`s kept each loop
/// busy half the time. The plane takes a `vm-create` beside those in
/// flight (at most `control-requests-in-flight`) when its outcome cannot
/// depend on them: its name is claimed in the shard directory at once, in
/// request order, on the least loaded shard counting the VMs still being
/// made. A claim that fails (the name is taken, by a VM or a create in
/// flight, or the fleet is full) is declined: that request waits until
/// nothing is in flight and runs as before, so its error, or its success
/// once an earlier create of the name failed, is what one at a time gives.
/// Anything else (`vm-destroy`, `query-vms`, faults, guest actions) is
/// never taken alongside: it waits for the creates before it, and nothing
/// starts while it runs. The session sends the replies in request order.
extension ControlPlane {
    var requestsInFlightLimit: Int { owner.isSharded ? owner.config.limits.controlRequestsInFlight : 1 }

    func dispatchAlongside(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) -> Bool {
        guard call.name == "vm-create", case .string(let name)? = call.request.arguments?["name"],
              let claim = claim(name) else { return false }
        claimedNames[name] = claim
        dispatch(call, complete: complete)
        // Its handler did not run (the arguments were refused): the name goes back.
        if claimedNames.removeValue(forKey: name) != nil { owner.releaseClaim(of: name) }
        return true
    }

    /// Claims `name` for a new VM on the least loaded shard, with its place
    /// in creation order (`VMClaim`); nil when it cannot be claimed now
    /// (unsharded, a name the rule refuses, taken, or the fleet full).
    func claim(_ name: String) -> VMClaim? {
        guard VMNameRule.problem(with: name, limit: owner.config.limits.vmNameBytes) == nil else { return nil }
        return owner.claimNewVM(named: name)
    }
}
