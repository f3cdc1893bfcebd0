@testable import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// device_add's checks that come before any plugin is asked: QEMU 7.2's
/// order (the id's form, the driver, the bus, the duplicate id), and the
/// fleet's own bound on how many devices a VM's clients can add.
@Suite struct DeviceCommandsTests {
    /// `devices-per-vm` bounds what one VM's clients can hold: a device on
    /// a bus other than the root PCI bus (here virtio-serial ports) needs
    /// nothing the board runs out of. Refused before the plugin is asked; a
    /// duplicate id still gets QEMU's text, and a device_del makes room.
    @Test func devicesPerVMBoundsDeviceAdd() throws {
        let fleet = try TestFleet(yaml: """
            limits: {devices-per-vm: 3}
            vms: [{name: vm0, machine: pc, memory: 128M, plugins: {chardev: {serial: []}}}]
            """)
        let c = fleet.negotiatedClient(to: "vm0")
        #expect(c.result("device_add", ["driver": "virtio-serial-pci", "id": "vs0"]) == [:])
        #expect(c.result("device_add", ["driver": "virtserialport", "id": "p0"]) == [:])
        #expect(c.result("device_add", ["driver": "virtserialport", "id": "p1"]) == [:])
        #expect(c.errorPair("device_add", ["driver": "virtserialport", "id": "p2"])
                == ("GenericError", "VM 'vm0' holds 3 devices already (limit devices-per-vm)"))
        #expect(c.errorPair("device_add", ["driver": "virtserialport", "id": "p1"]) == ("GenericError", "Duplicate device ID 'p1'"))
        #expect(c.errorPair("qom-get", ["path": "/machine/peripheral/p2", "property": "type"]).0 == "DeviceNotFound")
        #expect(c.result("device_del", ["id": "p0"]) == [:])
        fleet.advance(by: 100)
        #expect(c.result("device_add", ["driver": "virtserialport", "id": "p2"]) == [:])
    }

    /// pc's and q35's IDE and floppy buses take no hot-plug, and other
    /// boards have none: QEMU 7.2's texts (checked with
    /// qemu-system-x86_64 -machine pc / q35 / none and
    /// qemu-system-aarch64 -machine virt), before the duplicate id and the
    /// properties. A command line's devices are cold-plugged and pass.
    @Test func ideAndFloppyDevicesAreNotHotplugged() throws {
        let fleet = try TestFleet(yaml: """
            vms: [{name: p, machine: pc, memory: 128M, start-paused: true, plugins: {block: {}}},
                  {name: q, machine: pc-q35-7.2, memory: 128M, plugins: {block: {}, net: {}}},
                  {name: n, machine: none, memory: 128M, plugins: {block: {}}}]
            """)
        let pc = fleet.negotiatedClient(to: "p"), q35 = fleet.negotiatedClient(to: "q"), none = fleet.negotiatedClient(to: "n")
        let refusals: [(TestClient, JSONObject, String)] = [
            (pc, ["driver": "ide-cd", "id": "cd1"], "Bus 'ide.1' does not support hotplugging"),
            (pc, ["driver": "ide-hd", "id": "hd1", "nope": 1], "Bus 'ide.1' does not support hotplugging"),
            (pc, ["driver": "ide-cd", "id": "cd2", "bus": "ide.0"], "Bus 'ide.0' does not support hotplugging"),
            (pc, ["driver": "ide-cd", "id": "cd3", "bus": "ide.9"], "Bus 'ide.9' not found"),
            (pc, ["driver": "ide-cd", "id": "1bad", "bus": "ide.0"], "Parameter 'id' expects an identifier"),
            (pc, ["driver": "ide-hd", "bus": "pci.0"], "Device 'ide-hd' can't go on PCI bus"),
            (pc, ["driver": "ide-hd", "bus": "floppy-bus.0"], "Device 'ide-hd' can't go on floppy-bus bus"),
            (pc, ["driver": "floppy", "id": "f1"], "Bus 'floppy-bus.0' does not support hotplugging"),
            (pc, ["driver": "floppy", "bus": "ide.0"], "Device 'floppy' can't go on IDE bus"),
            (pc, ["driver": "floppy", "bus": "isa.0"], "Device 'floppy' can't go on ISA bus"),
            (q35, ["driver": "ide-cd", "id": "cd1"], "Bus 'ide.5' does not support hotplugging"),
            (q35, ["driver": "ide-hd", "id": "hd1", "bus": "ide.2"], "Bus 'ide.2' does not support hotplugging"),
            (q35, ["driver": "ide-hd", "bus": "pcie.0"], "Device 'ide-hd' can't go on PCIE bus"),
            (q35, ["driver": "ide-hd", "bus": "floppy-bus.0"], "Bus 'floppy-bus.0' not found"),
            (q35, ["driver": "floppy", "id": "f1"], "No 'floppy-bus' bus found for device 'floppy'"),
            (none, ["driver": "ide-cd", "id": "cd1"], "No 'IDE' bus found for device 'ide-cd'"),
            (none, ["driver": "ide-cd", "id": "cd1", "bus": "ide.0"], "Bus 'ide.0' not found"),
        ]
        for (client, arguments, text) in refusals {
            #expect(client.errorPair("device_add", arguments) == ("GenericError", text), "\(arguments)")
        }
        // QemuOpts reads the id before the driver is looked up.
        #expect(q35.errorPair("device_add", ["driver": "nosuch", "id": "1bad"]) == ("GenericError", "Parameter 'id' expects an identifier"))
        #expect(q35.errorPair("device_add", ["driver": "e1000", "id": "1bad"]) == ("GenericError", "Parameter 'id' expects an identifier"))
        func peripherals() -> [String] {
            let listed = pc.result("qom-list", ["path": "/machine/peripheral"])?.arrayValue ?? []
            return listed.filter { $0["type"]?.stringValue?.hasPrefix("child<") == true }.compactMap { $0["name"]?.stringValue }
        }
        #expect(peripherals() == [])

        let vm = try #require(fleet.vm("p"))
        var outcome: String?? = .none
        CommandLineReplay(steps: [.init(command: "device_add", arguments: ["driver": "ide-cd", "id": "cd9"], option: "-device ide-cd,id=cd9")])
            .run(on: vm) { outcome = $0 }
        #expect(outcome == .some(nil))
        #expect(peripherals() == ["cd9"])
    }
}
