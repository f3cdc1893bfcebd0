import QMPPluginKit
import QMPWire

/// The cpu-hotplug plugin's section of a VM config (`plugins: {cpu-hotplug: ...}`).
struct CPUHotplugConfig {
    /// `-cpu MODEL`; the board's default when absent.
    var model: String?
    /// Guest NUMA nodes; by default one when the VM has memory slots.
    var numaNodes: Int?
    /// How long the simulated guest takes to eject an unplugged CPU.
    var guestAckMilliseconds: UInt64 = 100

    static let keys: Set<String> = ["cpu-model", "numa-nodes", "guest-ack-ms"]

    init(_ value: JSONValue) throws(PluginError) {
        guard let object = try PluginConfig.section(value, plugin: "cpu-hotplug", keys: .keys(CPUHotplugConfig.keys),
                                                    notAMapping: "config must be a mapping") else { return }
        if let v = object["cpu-model"] {
            guard let s = v.stringValue else { throw PluginError("cpu-hotplug: cpu-model must be a string") }
            model = s
        }
        if let n = try PluginConfig.integer(object, "numa-nodes", atLeast: 0, else: "cpu-hotplug: numa-nodes must be an integer >= 0") {
            numaNodes = Int(n)
        }
        if let n = try PluginConfig.integer(object, "guest-ack-ms", atLeast: 0, else: "cpu-hotplug: guest-ack-ms must be milliseconds >= 0") {
            guestAckMilliseconds = UInt64(n)
        }
    }
}
