import QMPPluginKit
import QMPWire

/// The plugin's section of a VM's config: the backends and NICs the VM
/// starts with, as `-netdev` and `-device` would give them.
///
/// ```yaml
/// plugins:
///   net:
///     netdevs: [{id: n0, type: user}]          # members as netdev_add takes them
///     nics: [{id: nic0, model: virtio-net-pci, netdev: n0, mac: "52:54:00:12:34:56"}]
/// ```
struct NetConfig {
    var netdevs: [JSONObject] = []
    /// Each: `model` (virtio-net-pci, e1000, rtl8139), `id`, `netdev`, `mac`.
    var nics: [JSONObject] = []

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "net", keys: .expected(["netdevs", "nics"]),
                                                     notAMapping: "expected a mapping with 'netdevs' and 'nics'") else { return }
        netdevs = try NetConfig.objects(section["netdevs"], "netdevs")
        nics = try NetConfig.objects(section["nics"], "nics")
    }

    private static func objects(_ value: JSONValue?, _ key: String) throws(PluginError) -> [JSONObject] {
        guard let value, !value.isNull else { return [] }
        guard let array = value.arrayValue else { throw PluginError("net: '\(key)' must be a list") }
        var result: [JSONObject] = []
        for (i, element) in array.enumerated() {
            guard let object = element.objectValue else { throw PluginError("net: \(key)[\(i)] must be a mapping") }
            result.append(object)
        }
        return result
    }
}
