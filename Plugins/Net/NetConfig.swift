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
        netdevs = try PluginConfig.mappings(section["netdevs"], plugin: "net", key: "netdevs")
        nics = try PluginConfig.mappings(section["nics"], plugin: "net", key: "nics")
    }
}
