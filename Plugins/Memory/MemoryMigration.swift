import QMPPluginKit
import QMPWire

/// The memory plugin's part of a live migration: backends, plugged DIMMs
/// (slot, address, node, backend), the ACPI slots' `_OST` state and the
/// simulated guest's unplug answer move to the target, so its
/// `query-memdev`, `query-memory-devices` and `query-acpi-ospm-status`
/// become the source's. Version 1 of the format.
extension MemoryPlugin: MigratablePlugin {
    static let migrationVersion: Int64 = 1

    /// A `uint` or non-negative `int` JSON number.
    static func unsigned(_ value: JSONValue?) -> UInt64? {
        switch value {
        case .uint(let n)?: return n
        case .int(let n)? where n >= 0: return UInt64(n)
        default: return nil
        }
    }

    func saveState() -> JSONValue {
        let backendStates: [JSONValue] = backends.map { b in
            var props: JSONObject = [
                "size": .uint(b.size), "merge": .bool(b.merge), "dump": .bool(b.dump), "prealloc": .bool(b.prealloc),
                "share": .bool(b.share), "reserve": .bool(b.reserve), "policy": .string(b.policy.rawValue),
                "host-nodes": .array(b.hostNodes.map { .int(Int64($0)) }),
            ]
            if let path = b.memPath { props["mem-path"] = .string(path) }
            if b.kind == .file { props["align"] = .uint(b.align) }
            return ["id": .string(b.id), "qom-type": .string(b.kind.rawValue), "props": .object(props)]
        }
        let dimmStates: [JSONValue] = dimms.map { d in
            var state: JSONObject = ["kind": .string(d.kind.rawValue), "qom-path": .string(d.qomPath), "slot": .int(Int64(d.slot)),
                                     "addr": .uint(d.addr), "node": .int(Int64(d.node)), "memdev": .string(d.backend.id),
                                     "unplug-requested": .bool(d.unplugRequested)]
            if let id = d.id { state["id"] = .string(id) }
            return .object(state)
        }
        return [
            "version": .int(MemoryPlugin.migrationVersion),
            "backends": .array(backendStates), "dimms": .array(dimmStates),
            "acpi-slots": .array(acpiSlots.map { ["source": .int($0.source), "status": .int($0.status)] }),
            "unplug-response": .string(unplugResponse.rawValue),
            "sev-guests": .object(JSONObject(sevGuests.keys.sorted().map { (key: $0, value: JSONValue.object(sevGuests[$0]!)) })),
        ]
    }

    func loadState(_ state: JSONValue) throws(PluginError) {
        guard let version = state["version"]?.int64Value, (1...MemoryPlugin.migrationVersion).contains(version) else {
            throw PluginError("memory: unsupported state version \(state["version"]?.jsonText ?? "none")")
        }
        // What `object-add` and `device_add` may make, checked before
        // anything is made (`MigratedStateBounds`).
        typealias Bounds = MigratedStateBounds
        try Bounds.check(state["backends"]?.arrayValue?.count ?? 0, atMost: Bounds.sharePerVM, "memory backends", plugin: "memory")
        try Bounds.check(state["sev-guests"]?.objectValue?.count ?? 0, atMost: Bounds.sharePerVM, "sev-guest objects", plugin: "memory")
        try Bounds.checkUnique((state["backends"]?.arrayValue ?? []).lazy.map { $0["id"]?.stringValue ?? "" },
                               "memory backend", plugin: "memory")
        var newBackends: [MemoryBackend] = []
        for entry in state["backends"]?.arrayValue ?? [] {
            guard let id = entry["id"]?.stringValue, let kind = entry["qom-type"]?.stringValue.flatMap(MemoryBackend.Kind.init) else {
                throw PluginError("memory: a backend without id or type")
            }
            switch MemoryBackend.make(id: id, kind: kind, entry["props"]?.objectValue ?? [:], hostNodeCount: config.hostNodes) {
            case .failure(let error): throw PluginError("memory: backend \(id): \(error.desc)")
            case .success(let backend): newBackends.append(backend)
            }
        }
        var newDIMMs: [DIMM] = []
        var takenSlots = Set<Int64>()
        for entry in state["dimms"]?.arrayValue ?? [] {
            guard let kind = entry["kind"]?.stringValue.flatMap(DIMM.Kind.init), let path = entry["qom-path"]?.stringValue,
                  let slot = entry["slot"]?.int64Value, (0..<Int64(layout.slots)).contains(slot), takenSlots.insert(slot).inserted,
                  let addr = MemoryPlugin.unsigned(entry["addr"]),
                  let node = entry["node"]?.int64Value, let node32 = Int32(exactly: node),
                  let backend = newBackends.first(where: { $0.id == entry["memdev"]?.stringValue }) else {
                throw PluginError("memory: a DIMM the target's board cannot hold (slots, backend)")
            }
            let dimm = DIMM(id: entry["id"]?.stringValue, kind: kind, qomPath: path, slot: Int(slot), addr: addr,
                            node: Int(node32), backend: backend)
            dimm.unplugRequested = entry["unplug-requested"]?.boolValue ?? false
            backend.user = dimm.qomPath
            newDIMMs.append(dimm)
        }
        let slots = state["acpi-slots"]?.arrayValue ?? []
        backends = newBackends
        dimms = newDIMMs
        for i in acpiSlots.indices {
            acpiSlots[i] = i < slots.count
                ? ACPISlotStatus(source: slots[i]["source"]?.int64Value ?? 0, status: slots[i]["status"]?.int64Value ?? 0)
                : ACPISlotStatus()
        }
        unplugResponse = state["unplug-response"]?.stringValue.flatMap(UnplugResponse.init) ?? .accept
        var guests: [String: JSONObject] = [:]
        for (id, settings) in state["sev-guests"]?.objectValue ?? [:] { guests[id] = settings.objectValue }
        sevGuests = guests
        guest.discardAll()
    }
}
