import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// Each named limit, at and past its edge.
struct LimitTests {
    @Test func clientsPerVM() throws {
        let fleet = try TestFleet(yaml: "limits: {clients-per-vm: 2}\nvms: [{name: vm0}]")
        let a = fleet.connect(to: "vm0"), b = fleet.connect(to: "vm0"), c = fleet.connect(to: "vm0")
        #expect(!a.isClosed && !b.isClosed)
        #expect(c.isClosed)
        #expect(c.received.isEmpty)
        a.negotiate()
        _ = a.call("quit")
        // A slot frees when a client leaves... (here the VM itself ended)
        #expect(fleet.vm("vm0") == nil)
    }

    @Test func vmsPerFleet() throws {
        #expect(throws: (any Error).self) {
            _ = try TestFleet(yaml: "limits: {vms-per-fleet: 2}\nvms: [{name: 'v{n}', count: 3}]")
        }
        let fleet = try TestFleet(yaml: "limits: {vms-per-fleet: 2}\nvms: [{name: 'v{n}', count: 2}]")
        let control = fleet.connectControl()
        control.negotiate()
        #expect(control.call("vm-create", ["name": "v9"])?["error"]?["desc"] == "the fleet has 2 VMs (limit vms-per-fleet)")
    }

    @Test func vmNameRules() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let control = fleet.connectControl()
        control.negotiate()
        for bad in ["", "a/b", "..", ".", String(repeating: "x", count: 65), "fleet"] {
            #expect(control.call("vm-create", ["name": .string(bad)])?["error"] != nil, "\(bad)")
        }
        #expect(control.call("vm-create", ["name": .string(String(repeating: "x", count: 64))])?["return"] != nil)
    }
}
