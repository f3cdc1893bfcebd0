import UVLoop
import SharedValues

/// Which shard (loop) owns each VM name of a sharded fleet.
///
/// A VM's name is reserved here before its router creates it, so names are
/// unique and `vms-per-fleet` holds across every loop, and released when
/// the VM ends. New VMs go to the shard with the fewest. Any thread may ask;
/// the lock is held only for a dictionary operation.
package final class ShardDirectory: Sendable {
    private struct State {
        var owner: [String: Int] = [:]
        var counts: [Int]
    }

    private let state: Locked<State>
    private let limit: Int

    init(shards: Int, vmsPerFleet: Int) {
        state = Locked(State(counts: [Int](repeating: 0, count: shards)))
        limit = vmsPerFleet
    }

    /// The shard that owns `name`, or nil when no VM has that name.
    package func shard(of name: String) -> Int? {
        state.withLock { $0.owner[name] }
    }

    /// The shard with the fewest VMs: where a new VM goes.
    package func leastLoaded() -> Int {
        state.withLock { state in
            state.counts.indices.min { state.counts[$0] < state.counts[$1] } ?? 0
        }
    }

    /// VMs in the whole fleet.
    var count: Int { state.withLock { $0.owner.count } }

    /// Claims `name` for `shard`, with the errors `Router.createVM` gives.
    func reserve(_ name: String, on shard: Int) throws(FleetError) {
        let problem: FleetError? = state.withLock { state in
            if state.owner[name] != nil { return FleetError.vm("VM '\(name)' already exists") }
            if state.owner.count >= limit {
                return FleetError.vm("the fleet has \(state.owner.count) VMs (limit vms-per-fleet)")
            }
            state.owner[name] = shard
            state.counts[shard] += 1
            return nil
        }
        if let problem { throw problem }
    }

    /// Claims `name` for the shard with the fewest VMs, counting the names
    /// claimed there whose VMs are still being made (`FleetShards.claimNewVM`),
    /// so VMs in flight together spread over the loops.
    /// - Returns: the shard, or nil when the name is taken or the fleet is
    ///   full (the caller then makes the VM the ordinary way, which gives
    ///   the error).
    func reserveOnLeastLoaded(_ name: String) -> Int? {
        state.withLock { state in
            guard state.owner[name] == nil, state.owner.count < limit,
                  let shard = state.counts.indices.min(by: { state.counts[$0] < state.counts[$1] }) else { return nil }
            state.owner[name] = shard
            state.counts[shard] += 1
            return shard
        }
    }

    /// Frees `name` (its VM ended or failed to start).
    func release(_ name: String) {
        state.withLock { state in
            if let shard = state.owner.removeValue(forKey: name) { state.counts[shard] -= 1 }
        }
    }
}
