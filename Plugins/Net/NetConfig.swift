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
///
/// Decoded once per settings text and shared by the VMs that text made
/// (`SharedConfigurationPlugin`): a template's 10,000 VMs read the same
/// backends and cards. What can be refused without a VM's state (a
/// backend's members, a card's model) is decided here, and the refusal is
/// kept in its place, so a VM still reports the first failure in its
/// config's order, as when each VM read its section.
struct NetConfig: Sendable {
    /// A backend: its members as given, read as netdev_add's generated
    /// decoder reads a request.
    struct Backend: Sendable {
        let members: JSONObject
        let decoded: Result<QAPI.Netdev, QMPError>
    }

    /// A card: its model, its id, and the rest of its properties.
    struct Card: Sendable {
        let model: Result<NICModel, PluginError>
        let id: String?
        /// `netdev`, `mac` and any other property, without `model` and `id`.
        let properties: JSONObject
    }

    var netdevs: [Backend] = []
    /// Each: `model` (virtio-net-pci, e1000, rtl8139), `id`, `netdev`, `mac`.
    var nics: [Card] = []

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "net", keys: .expected(["netdevs", "nics"]),
                                                     notAMapping: "expected a mapping with 'netdevs' and 'nics'") else { return }
        netdevs = try PluginConfig.mappings(section["netdevs"], plugin: "net", key: "netdevs").map { members in
            Backend(members: members, decoded: Result { () throws(QMPError) in try QAPI.Netdev(qapiMembers: members, at: .root) })
        }
        nics = try PluginConfig.mappings(section["nics"], plugin: "net", key: "nics").map { card in
            let modelName = card["model"]?.stringValue ?? NICModel.virtioNetPCI.rawValue
            var properties = card
            _ = properties.removeValue(forKey: "model")
            let id = properties.removeValue(forKey: "id")?.stringValue
            return Card(model: NICModel(rawValue: modelName).map { .success($0) } ?? .failure(PluginError("net: unknown NIC model '\(modelName)'")),
                        id: id, properties: properties)
        }
    }
}
