import QMPPluginKit
import QMPWire

/// Rocker switches as QEMU's `rocker.json` serves them: query-rocker,
/// query-rocker-ports, query-rocker-of-dpa-flows and -groups, the `rocker`
/// PCI device, and the guest's OF-DPA driver as guest actions.
///
/// Config keys (`plugins: {rocker: ...}`): `switches`, a list of
/// `{name, len-ports, switch_id, fp_start_macaddr, world, id, ports, flows,
/// groups}` (see `RockerConfig`).
///
/// Guest actions: `flow-add`, `flow-del`, `group-add`, `group-del` (what
/// the driver's OF-DPA commands do), `traffic` (packets in on a port; hit
/// counters advance along the pipeline), `port-link` (cable in or out),
/// `port-settings` (enable, speed, duplex, autoneg).
final class RockerPlugin: QMPPlugin {
    static let name = "rocker"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    /// Switches in realize order.
    var switches: [RockerSwitch] = []
    /// QEMU's `sw_index`: switches that took a default MAC so far.
    var defaultMACIndex = 0

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        for entry in try RockerConfig(config).switches {
            let sw: RockerSwitch
            let device = NewDevice.configured(id: entry.deviceID, anonymousBefore: switches.filter { $0.deviceID == nil }.count)
            switch realizeSwitch(device, entry.properties) {
            case .failure(let error): throw PluginError("rocker: -device rocker: \(error.desc)")
            case .success(let made): sw = made
            }
            do {
                try sw.configure(entry)
            } catch {
                throw PluginError(error.message(switch: sw.name))
            }
            switches.append(sw)
            if let id = entry.deviceID, case .failure(let error) = vm.deviceRealized(driver: "rocker", id: id, properties: entry.properties) {
                throw PluginError("rocker: -device rocker: \(error.desc)")
            }
        }
    }

    func rockerSwitch(_ name: String) -> RockerSwitch? { switches.first { $0.name == name } }

    /// system_reset resets every switch (QEMU's `rocker_reset`).
    func reset() {
        for sw in switches { sw.reset() }
    }

    static func register(_ plugin: PluginRegistry<RockerPlugin>) {
        plugin.command(QAPI.QueryRockerCommand.self, throwing: { this, args throws(QMPError) in try this.queryRocker(args) })
        plugin.command(QAPI.QueryRockerPortsCommand.self, throwing: { this, args throws(QMPError) in try this.queryPorts(args) })
        plugin.command(QAPI.QueryRockerOfDpaFlowsCommand.self, throwing: { this, args throws(QMPError) in try this.queryFlows(args) })
        plugin.command(QAPI.QueryRockerOfDpaGroupsCommand.self, throwing: { this, args throws(QMPError) in try this.queryGroups(args) })
        plugin.device(driverDescription,
                      addDevice: { this, device, props in this.addDevice(device, props) },
                      remove: { this, id in this.removeDevice(id) })
        plugin.guestAction(QAPI.FlowAddGuestAction.self) { this, args in this.guestFlowAdd(args) }
        plugin.guestAction(QAPI.FlowDelGuestAction.self) { this, args in this.guestFlowDel(args) }
        plugin.guestAction(QAPI.GroupAddGuestAction.self) { this, args in this.guestGroupAdd(args) }
        plugin.guestAction(QAPI.GroupDelGuestAction.self) { this, args in this.guestGroupDel(args) }
        plugin.guestAction(QAPI.TrafficGuestAction.self) { this, args in this.guestTraffic(args) }
        plugin.guestAction(QAPI.PortLinkGuestAction.self) { this, args in this.guestPortLink(args) }
        plugin.guestAction(QAPI.PortSettingsGuestAction.self) { this, args in this.guestPortSettings(args) }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: RockerPlugin.self) }
