@testable import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// The host is the one owner of a device_add device's QOM path (ABI
/// revision 6, `request_qom_path`): QEMU numbers anonymous devices of every
/// driver in one sequence, and a device_add that fails after its properties
/// were read still uses its number.
@Suite struct PeripheralPathTests {
    /// QEMU 7.2, `-machine pc -cpu qemu64 -smp 1,maxcpus=2,sockets=2,cores=1,threads=1
    /// -m 128M,slots=2,maxmem=1G`, the same commands: qom-list
    /// /machine/peripheral-anon has device[0] and device[2], and
    /// query-hotpluggable-cpus gives the CPU /machine/peripheral-anon/device[2].
    @Test func anonymousDevicesOfTwoPluginsShareQEMUsSequence() throws {
        let fleet = try TestFleet(yaml: """
            vms: [{name: a, machine: pc, cpu: qemu64, memory: {size: 128M, slots: 2, maxmem: 1G},
                   smp: {cpus: 1, maxcpus: 2, sockets: 2, cores: 1, threads: 1}, plugins: {memory: {}, cpu-hotplug: {}}}]
            """)
        let c = fleet.negotiatedClient(to: "a")
        #expect(c.result("object-add", ["qom-type": "memory-backend-ram", "id": "mem1", "size": 134_217_728]) == [:])
        #expect(c.result("device_add", ["driver": "pc-dimm", "memdev": "mem1"]) == [:])
        #expect(c.errorPair("device_add", ["driver": "pc-dimm"]) == ("GenericError", "'memdev' property must be set"))
        #expect(c.result("device_add", ["driver": "qemu64-x86_64-cpu", "socket-id": 1, "core-id": 0, "thread-id": 0]) == [:])
        let names = c.result("qom-list", ["path": "/machine/peripheral-anon"])?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names?.filter { $0.hasPrefix("device[") } == ["device[0]", "device[2]"])
        let cpuPaths = c.result("query-hotpluggable-cpus")?.arrayValue?.compactMap { $0["qom-path"]?.stringValue }
        #expect(cpuPaths?.first == "/machine/peripheral-anon/device[2]")
        // The plugin knows its DIMM by the host's path: device_del by it reaches the DIMM.
        #expect(c.errorPair("device_del", ["id": "/machine/peripheral-anon/device[0]"]).0 == nil)
    }

    /// QEMU 7.2, `-machine pc -nodefaults`, the same commands: the e1000s and
    /// the rocker switch are device[0], [1] and [3] (the refused rocker took
    /// [2]); device_del by [1] and [3] is accepted, by [2] DeviceNotFound.
    /// The net and rocker drivers read the host's path (they counted their
    /// own devices before, and knew these as device[0] and [1]).
    @Test func netAndRockerDevicesAreKnownByTheHostsPaths() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, machine: pc, plugins: {net: {}, rocker: {}}}]")
        let c = fleet.negotiatedClient(to: "a")
        #expect(c.result("device_add", ["driver": "e1000"]) == [:])
        #expect(c.result("device_add", ["driver": "rocker"]) == [:])
        #expect(c.errorPair("device_add", ["driver": "rocker", "name": "sw1", "len-ports": "x"])
            == ("GenericError", "Parameter 'len-ports' expects integer"))
        #expect(c.result("device_add", ["driver": "e1000"]) == [:])
        let names = c.result("qom-list", ["path": "/machine/peripheral-anon"])?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names?.filter { $0.hasPrefix("device[") } == ["device[0]", "device[1]", "device[3]"])
        #expect(c.errorPair("device_del", ["id": "/machine/peripheral-anon/device[1]"]).0 == nil)
        #expect(c.errorPair("device_del", ["id": "/machine/peripheral-anon/device[3]"]).0 == nil)
        #expect(c.errorPair("device_del", ["id": "/machine/peripheral-anon/device[2]"])
            == ("DeviceNotFound", "Device '/machine/peripheral-anon/device[2]' not found"))
    }

    /// A named device keeps no QOM path of its own (10,000 VMs of 6
    /// configured devices kept 1.9 MB of them): it is written from the id
    /// when asked for, and found by it, as before.
    @Test func aNamedDevicesPathIsWrittenFromItsID() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, machine: pc, plugins: {balloon: {device: balloon0}, net: {}}}]")
        let vm = try #require(fleet.vm("a"))
        let balloon = try #require(vm.devices.device(id: "balloon0"))
        #expect(balloon.qomPath == "/machine/peripheral/balloon0" && balloon.driver == "virtio-balloon-pci")
        #expect(Mirror(reflecting: balloon).children.first { $0.label == "otherPath" }.map { "\($0.value)" } == "nil")
        #expect(balloon.hasQOMPath("/machine/peripheral/balloon0") && !balloon.hasQOMPath("/machine/peripheral/balloon"))
        #expect(!balloon.hasQOMPath("/machine/peripheral-anon/balloon0"))
        let c = fleet.negotiatedClient(to: "a")
        #expect(c.result("device_add", ["driver": "e1000"]) == [:])
        #expect(vm.devices.device(idOrPath: "/machine/peripheral-anon/device[0]")?.driver == "e1000")
        let names = c.result("qom-list", ["path": "/machine/peripheral"])?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names?.contains("balloon0") == true)
        #expect(c.result("qom-get", ["path": "/machine/peripheral/balloon0", "property": "type"]) == "virtio-balloon-pci")
        #expect(c.errorPair("device_del", ["id": "/machine/peripheral/balloon0"]).0 == nil)
    }

    /// The VMs of a template realize the same devices with the same
    /// properties: their entries share one parsed object, and keep `bus`
    /// only there.
    @Test func configuredDevicesOfATemplateShareTheirProperties() throws {
        let fleet = try TestFleet(yaml: """
            vms: [{name: "t{n}", count: 2, machine: pc, plugins: {net: {netdevs: [{id: n0, type: user}],
                   nics: [{id: nic0, model: virtio-net-pci, netdev: n0, bus: pci.0}]}}}]
            """)
        let a = try #require(fleet.vm("t0")?.devices.device(id: "nic0"))
        let b = try #require(fleet.vm("t1")?.devices.device(id: "nic0"))
        #expect(a.properties["netdev"]?.stringValue == "n0" && a.bus == "pci.0" && b.bus == "pci.0")
        let storage = { (d: Device) in d.properties.members.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        #expect(storage(a) == storage(b) && storage(a) != 0)
    }

    /// A VM keeps room for the devices its config realized, not for the
    /// 8 that appending 5 of them one by one makes room for; a device_add
    /// later still finds room (the list grows again).
    @Test func configuredDevicesKeepNoSpareRoom() throws {
        let fleet = try TestFleet(yaml: """
            vms: [{name: "t0", machine: pc, plugins: {net: {
                   netdevs: [{id: n0, type: user}, {id: n1, type: user}, {id: n2, type: user}, {id: n3, type: user}, {id: n4, type: user}],
                   nics: [{id: nic0, model: virtio-net-pci, netdev: n0}, {id: nic1, model: e1000, netdev: n1},
                          {id: nic2, model: e1000, netdev: n2}, {id: nic3, model: e1000, netdev: n3},
                          {id: nic4, model: rtl8139, netdev: n4}]}}}]
            """)
        let vm = try #require(fleet.vm("t0"))
        #expect(vm.devices.devices.map { $0.id } == ["nic0", "nic1", "nic2", "nic3", "nic4"])
        #expect(vm.devices.devices.capacity < 8, "room for \(vm.devices.devices.capacity) devices")
    }
}
