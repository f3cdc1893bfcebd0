import QMPPluginKit
import QMPWire

/// The memory plugin's section of a VM config (`plugins: {memory: ...}`).
struct MemoryConfig {
    /// `-machine nvdimm=on`.
    var nvdimm = false
    /// Guest NUMA nodes; by default one when the VM has memory slots.
    var numaNodes: Int?
    /// NUMA nodes of the simulated host, for `host-nodes`/`policy` checks.
    var hostNodes = 1
    /// How long the simulated guest's ACPI takes to answer a hot-plug event.
    var guestAckMilliseconds: UInt64 = 100
    /// Backends created with the VM (`-object memory-backend-*`), each the
    /// members of `object-add` (`qom-type` defaults to memory-backend-ram).
    var memdevs: [JSONObject] = []

    static let keys: Set<String> = ["nvdimm", "numa-nodes", "host-nodes", "guest-ack-ms", "memdevs"]

    init(_ value: JSONValue) throws(PluginError) {
        guard let object = try PluginConfig.section(value, plugin: "memory", keys: .keys(MemoryConfig.keys),
                                                    notAMapping: "config must be a mapping") else { return }
        if let b = try PluginConfig.bool(object, "nvdimm", else: "memory: nvdimm must be a boolean") { nvdimm = b }
        if let n = try PluginConfig.integer(object, "numa-nodes", atLeast: 0, else: "memory: numa-nodes must be an integer >= 0") {
            numaNodes = Int(n)
        }
        if let n = try PluginConfig.integer(object, "host-nodes", atLeast: 1, else: "memory: host-nodes must be an integer >= 1") {
            hostNodes = Int(n)
        }
        if let n = try PluginConfig.integer(object, "guest-ack-ms", atLeast: 0, else: "memory: guest-ack-ms must be milliseconds >= 0") {
            guestAckMilliseconds = UInt64(n)
        }
        if let v = object["memdevs"] {
            guard let list = v.arrayValue else { throw PluginError("memory: memdevs must be a list") }
            for entry in list {
                guard let o = entry.objectValue else { throw PluginError("memory: each memdevs entry must be a mapping") }
                memdevs.append(o)
            }
        }
    }
}
