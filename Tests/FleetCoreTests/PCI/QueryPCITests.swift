@testable import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// query-pci and the virtio debug queries follow device_add and the
/// guest's release after device_del, on a simulated pc.
@Suite(.serialized) struct QueryPCITests {
    static let yaml = "vms: [{name: a, machine: pc, memory: 128M, start-paused: true, plugins: {net: {}, chardev: {}, balloon: {}, rocker: {}}}]"

    static func places(_ client: TestClient) -> [String] {
        let devices = client.result("query-pci")?.arrayValue?.first?["devices"]?.arrayValue ?? []
        return devices.map { "\($0["slot"]?.int64Value ?? -1).\($0["function"]?.int64Value ?? -1):\($0["qdev_id"]?.stringValue ?? "?")" }
    }

    @Test func devicesTakeSlotsAndLeaveThem() throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let c = fleet.negotiatedClient(to: "a")
        #expect(Self.places(c) == ["0.0:", "1.0:", "1.1:", "1.3:"])
        #expect(c.result("device_add", ["driver": "e1000", "id": "n0"]) == [:])
        #expect(c.result("device_add", ["driver": "virtio-net-pci", "id": "n1", "addr": "0x5"]) == [:])
        #expect(c.result("device_add", ["driver": "rocker", "id": "r0", "addr": "4"]) == [:])
        #expect(Self.places(c) == ["0.0:", "1.0:", "1.1:", "1.3:", "2.0:n0", "4.0:r0", "5.0:n1"])

        // A taken slot is refused with QEMU's text and no device appears.
        #expect(c.errorPair("device_add", ["driver": "e1000", "id": "t", "addr": "5"])
                == ("GenericError", "PCI: slot 5 function 0 not available for e1000, in use by virtio-net-pci,id=n1"))
        #expect(c.errorPair("device_add", ["driver": "e1000", "id": "t", "addr": "zz"])
                == ("GenericError", "Property 'e1000.addr' doesn't take value 'zz'"))
        #expect(c.errorPair("device_add", ["driver": "e1000", "id": "t", "multifunction": "maybe"])
                == ("GenericError", "Parameter 'multifunction' expects 'on' or 'off'"))
        #expect(c.errorPair("qom-get", ["path": "/machine/peripheral/t", "property": "type"]).0 == "DeviceNotFound")
        // A plugin's refusal frees the place it was given.
        #expect(c.errorPair("device_add", ["driver": "virtio-balloon-pci", "id": "b0", "addr": "6"]).0 == nil)
        #expect(c.errorPair("device_add", ["driver": "virtio-balloon-pci", "id": "b1", "addr": "7"])
                == ("GenericError", "Only one balloon device is supported"))
        #expect(c.result("device_add", ["driver": "e1000", "id": "n7", "addr": "7"]) == [:])

        let entry = c.result("query-pci")?.arrayValue?.first?["devices"]?.arrayValue?.first { $0["qdev_id"] == "n1" }
        #expect(entry?["id"]?["vendor"] == 6900 && entry?["class_info"]?["desc"] == "Ethernet controller")

        #expect(c.result("device_del", ["id": "n1"]) == [:])
        #expect(Self.places(c).contains("5.0:n1"), "the guest has not released it yet")
        fleet.advance(by: 1000)
        #expect(!Self.places(c).contains("5.0:n1"))
        #expect(c.result("device_add", ["driver": "e1000", "id": "n8", "addr": "5"]) == [:])
    }

    @Test func virtioStatusOfARealVirtioDevice() throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let c = fleet.negotiatedClient(to: "a")
        #expect(c.result("device_add", ["driver": "virtio-serial-pci", "id": "ser0"]) == [:])
        #expect(c.result("device_add", ["driver": "e1000", "id": "n0"]) == [:])
        let status = c.result("x-query-virtio-status", ["path": "/machine/peripheral/ser0/virtio-backend"])
        #expect(status?["name"] == "virtio-serial" && status?["num-vqs"] == 64)
        #expect(status?["bus-name"] == "ser0.0" && status?["vm-running"] == false)
        #expect(c.result("x-query-virtio-queue-status", ["path": "/machine/peripheral/ser0/virtio-backend", "queue": 2])?["vring-num"] == 32)
        #expect(c.errorPair("x-query-virtio-queue-status", ["path": "/machine/peripheral/ser0/virtio-backend", "queue": 64])
                == ("GenericError", "Invalid virtqueue number 64"))
        #expect(c.errorPair("x-query-virtio-status", ["path": "/machine/peripheral/ser0"])
                == ("GenericError", "Path /machine/peripheral/ser0 is not a VirtIODevice"))
        #expect(c.errorPair("x-query-virtio-status", ["path": "/machine/peripheral/n0/virtio-backend"])
                == ("GenericError", "Path /machine/peripheral/n0/virtio-backend is not a VirtIODevice"))
        #expect(c.result("cont") == [:])
        #expect(c.result("x-query-virtio-status", ["path": "/machine/peripheral/ser0/virtio-backend"])?["vm-running"] == true)
    }

    /// q35's pcie.0 takes no hot-plug; a command line's devices are
    /// cold-plugged there (qmpfleet-emulator, vm-attach-monitor).
    @Test func q35TakesPCIDevicesOnlyFromTheCommandLine() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: q, machine: pc-q35-7.2, memory: 128M, start-paused: true, plugins: {net: {}}}]")
        let c = fleet.negotiatedClient(to: "q")
        #expect(c.errorPair("device_add", ["driver": "e1000", "id": "n0"]) == ("GenericError", "Bus 'pcie.0' does not support hotplugging"))
        #expect(c.errorPair("device_add", ["driver": "e1000", "id": "n0", "bus": "pcie.0", "addr": "zz"])
                == ("GenericError", "Bus 'pcie.0' does not support hotplugging"))
        let vm = try #require(fleet.vm("q"))
        func step(_ args: JSONObject) -> CommandLineReplay.Step { .init(command: "device_add", arguments: args, option: "-device x") }
        var outcome: String?? = .none
        CommandLineReplay(steps: [step(["driver": "e1000", "id": "n0"]), step(["driver": "rtl8139", "id": "n1", "addr": "0x1f.4"]),
                                  step(["driver": "e1000", "id": "n2", "addr": "1.1"])]).run(on: vm) { outcome = $0 }
        #expect(outcome == .some("-device x: PCI: single function device can't be populated in function 1.1"))
        #expect(Self.places(c) == ["0.0:", "1.0:n0", "31.0:", "31.2:", "31.3:", "31.4:n1"])
    }

    /// A template's devices (QEMU's command-line -device) are on the bus
    /// too, cold-plugged in the order the VM's plugins are created.
    @Test func configuredDevicesTakeTheirSlots() throws {
        let fleet = try TestFleet(yaml: """
            vms: [{name: c, machine: pc, memory: 128M, start-paused: true, plugins: {
              block: {drives: [{id: drive0, device: disk0, interface: virtio, file: /tmp/qmpfleet-pci.qcow2, format: qcow2}]},
              net: {netdevs: [{id: net0, type: user}], nics: [{id: nic0, model: e1000, netdev: net0, addr: "0x9"}]},
              balloon: {device: balloon0}, rocker: {switches: [{id: sw0, name: sw0}]}}}]
            """)
        let c = fleet.negotiatedClient(to: "c")
        // The plugins in config order: block, net (its NIC at its addr), balloon, rocker.
        #expect(Self.places(c).filter { !$0.hasSuffix(":") } == ["2.0:disk0", "3.0:balloon0", "4.0:sw0", "9.0:nic0"])
        let names = c.result("qom-list", ["path": "/machine/peripheral"])?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(["disk0", "nic0", "balloon0", "sw0"]).isSubset(of: Set(names)))
        #expect(c.result("x-query-virtio")?.arrayValue?.count == 2)
        #expect(c.errorPair("device_add", ["driver": "rtl8139", "id": "n1", "addr": "9"])
                == ("GenericError", "PCI: slot 9 function 0 not available for rtl8139, in use by e1000,id=nic0"))
        // A configured device is deleted like a hot-plugged one.
        #expect(c.result("device_del", ["id": "nic0"]) == [:])
        fleet.advance(by: 1000)
        #expect(!Self.places(c).contains("9.0:nic0"))
        #expect(c.result("device_add", ["driver": "rtl8139", "id": "n1", "addr": "9"]) == [:])
    }

    @Test func aConfiguredDeviceOnATakenSlotFailsTheVM() {
        #expect(throws: (any Error).self) {
            try TestFleet(yaml: """
                vms: [{name: c, machine: pc, memory: 128M, plugins: {
                  net: {nics: [{id: nic0, model: e1000, addr: "1"}]}}}]
                """)
        }
    }
}

