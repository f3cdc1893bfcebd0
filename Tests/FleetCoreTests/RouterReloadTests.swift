import FleetConfigFile
import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// SIGHUP's reload manages the config file's VMs only.
@Suite struct RouterReloadTests {
    @Test func reloadLeavesVMsThatDidNotComeFromTheFile() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a}, {name: b}]")
        let control = fleet.connectControl()
        control.negotiate()
        #expect(control.call("vm-create", ["name": "made"])?["return"] != nil)
        #expect(control.call("vm-attach-monitor", [
            "name": "handed", "monitor-path": .string("\(fleet.router.config.socketDirectory)/handed.sock"),
        ])?["return"] != nil)
        let fresh = try FleetConfig.parse(yaml: "vms: [{name: a}, {name: c}]", file: "reload.yaml")
        let change = fleet.router.reload(vms: fresh.vms)
        #expect(change.removed == ["b"])
        #expect(change.added == ["c"])
        #expect(Set(fleet.router.vms.keys) == ["a", "c", "made", "handed"])
    }

    @Test func onlyTheFilesEntriesAreMarkedAsItsOwn() throws {
        let config = try FleetConfig.parse(yaml: "templates: {t: {}}\nvms: [{name: 'v{n}', count: 2, template: t}]", file: "f")
        let fromFile = config.vms.filter { $0.isFromConfigFile }.count
        #expect(fromFile == 2)
        #expect(config.templates["t"]?.isFromConfigFile == false)
        let created = try VMSpec.single(entry: ["template": "t", "name": "x"], source: "vm-create", config: config)
        #expect(!created.isFromConfigFile)
    }
}
