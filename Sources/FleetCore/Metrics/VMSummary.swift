import QMPWire

/// One VM as the fleet page lists it.
public struct VMSummary: Sendable, Equatable {
    public var name: String
    /// `RunState.rawValue`, or `proxied` for a real QEMU behind the fleet.
    public var state: String
    public var clients: Int
    public var plugins: [String]
    /// The loop (shard) the VM lives on.
    public var loop: Int
    /// Creation order: the page lists VMs in it.
    var sequence: Int

    /// `{"name", "state", "clients", "plugins", "loop"}`.
    public var json: JSONValue {
        .object([
            "name": .string(name), "state": .string(state), "clients": .int(Int64(clients)),
            "plugins": .array(plugins.map { .string($0) }), "loop": .int(Int64(loop)),
        ])
    }
}

extension Router {
    /// This router's part of a scrape (loop thread): its counters, and its
    /// VMs counted by run state and clients.
    func metricsSnapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(metrics)
        for vm in vms.values {
            snapshot.vmsByState[vm.runState.rawValue, default: 0] += 1
            snapshot.clients += vm.sessions.count
        }
        snapshot.proxiedVMs = proxies.count
        return snapshot
    }

    /// This router's first `limit` VMs in creation order (proxies last),
    /// and how many it has in all (loop thread): only what the page can
    /// list is built, however large the shard.
    func vmSummaries(limit: Int) -> (listed: [VMSummary], total: Int) {
        var list = vmList.prefix(limit).map { vm in
            VMSummary(name: vm.name, state: vm.runState.rawValue, clients: vm.sessions.count,
                      plugins: vm.plugins.map(\.library.name), loop: shardIndex, sequence: vm.creationSequence)
        }
        for proxy in proxies.values.prefix(max(0, limit - list.count)) {
            list.append(VMSummary(name: proxy.name, state: "proxied", clients: 0, plugins: [], loop: shardIndex, sequence: Int.max))
        }
        return (list, vms.count + proxies.count)
    }
}
