/// A new VM's name, shard and place in creation order, taken before the VM
/// is made: the control socket claims each `vm-create`'s in request order
/// on its own loop, so creates in flight together on several loops give
/// the names, `vms-per-fleet` and `query-vms`' order that one at a time
/// would. A create that then fails leaves a gap in creation order, as a
/// config VM that fails to start does.
package struct VMClaim: Sendable, Equatable {
    /// The shard the VM is made on.
    package let shard: Int
    /// Its `VM.creationSequence`.
    package let sequence: Int
}

extension FleetShards {
    /// Claims `name` on the least loaded shard (counting VMs still being
    /// made) with the next place in creation order; nil when the name is
    /// taken or the fleet is full. The VM is then made by that shard's
    /// `Router.createVM(_:claim:)`, which gives the name back if it fails.
    package func claimNewVM(named name: String) -> VMClaim? {
        guard let shard = directory.reserveOnLeastLoaded(name) else { return nil }
        return VMClaim(shard: shard, sequence: counters.nextVMSequence())
    }
}
