import QMPPluginKit
import QMPWire

/// Network backends and NICs, as QEMU's `net.json` serves them:
/// netdev_add/netdev_del (no host device is touched), set_link,
/// query-rx-filter, the virtio-net-pci/e1000/rtl8139 drivers, and the
/// guest's receive filter with NIC_RX_FILTER_CHANGED.
///
/// Config keys (`plugins: {net: ...}`):
/// - `netdevs`: list of backends, each with the members of `netdev_add`
///   (`{id: n0, type: user}`).
/// - `nics`: list of cards, each `{model: virtio-net-pci|e1000|rtl8139, id: nic0,
///   netdev: n0, mac: "52:54:00:12:34:56"}` (`id`, `netdev`, `mac` optional).
///
/// Guest actions: `rx-filter`, `set-promiscuous`, `add-multicast`,
/// `link-status`, and `stream-peer` (the far end of a stream backend).
final class NetPlugin: SharedConfigurationPlugin {
    static let name = "net"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    /// Live backends, in creation order.
    var netdevs: [Netdev] = []
    /// Backends one VM may have (`netdev_add`, the config's among them).
    /// A NIC needs a slot of the PCI bus, but a backend needs nothing the
    /// board runs out of, so without a bound one client's netdev_add loop
    /// could make its VM, and the process, hold unbounded memory. QEMU
    /// 7.2 has none.
    static let netdevsPerVM = 1024
    /// NICs, in creation order (QEMU's net client list order).
    var nics: [NIC] = []
    /// The next net client's number: QEMU keeps backends and NICs in one
    /// list, in creation order (`info network`).
    var nextClientNumber = 0

    /// A template's VMs share their decoded backends and cards.
    static func configuration(from config: JSONValue) throws(PluginError) -> NetConfig { try NetConfig(config) }

    init(vm: PluginVM, configuration config: NetConfig) throws(PluginError) {
        self.vm = vm
        for backend in config.netdevs {
            if case .failure(let error) = backend.decoded.flatMap({ addNetdev($0, backend.members) }) {
                throw PluginError("net: netdev: \(error.desc)")
            }
        }
        for card in config.nics {
            let model = try card.model.get()
            let device = NewDevice.configured(id: card.id, anonymousBefore: nics.filter { $0.id == nil }.count)
            if case .failure(let error) = addNIC(model: model, device, card.properties) { throw PluginError("net: nic: \(error.desc)") }
            if let id = card.id, case .failure(let error) = vm.deviceRealized(driver: model.rawValue, id: id, properties: card.properties) {
                throw PluginError("net: nic: \(error.desc)")
            }
        }
    }

    static func register(_ plugin: PluginRegistry<NetPlugin>) {
        // Gratuitous ARPs (RARP) on the NICs a guest would see: nothing a
        // simulated network receives, and 7.2 checks none of the arguments
        // beyond their types (net/announce.c).
        plugin.command(QAPI.AnnounceSelfCommand.self) { _, _ in .success(.object([:])) }
        plugin.command(QAPI.NetdevAddCommand.self, keepingMembers: { this, args, given in this.netdevAdd(args, options: given) })
        plugin.command(QAPI.NetdevDelCommand.self) { this, args in this.netdevDel(args) }
        plugin.command(QAPI.SetLinkCommand.self) { this, args in this.setLink(args) }
        plugin.command(QAPI.QueryRxFilterCommand.self) { this, args in this.queryRxFilter(args) }
        plugin.hmpInfo("network") { this in this.infoNetwork() }
        for model in NICModel.allCases {
            plugin.device(driverDescription(model),
                          addDevice: { this, device, props in this.addNIC(model: model, device, props) },
                          remove: { this, id in this.removeNIC(id) })
        }
        plugin.guestAction(QAPI.RxFilterGuestAction.self) { this, args in this.guestRxFilter(args) }
        plugin.guestAction(QAPI.SetPromiscuousGuestAction.self) { this, args in this.guestSetPromiscuous(args) }
        plugin.guestAction(QAPI.AddMulticastGuestAction.self) { this, args in this.guestAddMulticast(args) }
        plugin.guestAction(QAPI.LinkStatusGuestAction.self) { this, args in this.guestLinkStatus(args) }
        plugin.guestAction(QAPI.StreamPeerGuestAction.self) { this, args in this.streamPeer(args) }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: NetPlugin.self) }
