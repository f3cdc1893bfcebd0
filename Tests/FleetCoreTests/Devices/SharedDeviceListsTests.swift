@testable import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// The VMs of a template share their realized-device list's storage
/// (`DeviceRegistry.settle`), and a device one of them adds or removes is
/// its own.
@Suite(.serialized) struct SharedDeviceListsTests {
    static let yaml = """
        vms: [{name: "v{n}", count: 2, machine: pc, start-paused: true,
               plugins: {net: {netdevs: [{id: net0, type: user}], nics: [{id: nic0, model: virtio-net-pci, netdev: net0}]},
                         balloon: {device: balloon0}}}]
        """

    static func storage(_ vm: VM?) -> UnsafeRawPointer? {
        vm?.devices.devices.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func aTemplatesVMsShareTheirListUntilOneChangesIt() throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let (first, second) = (fleet.vm("v0"), fleet.vm("v1"))
        #expect(Set(first?.devices.devices.map(\.qomPath) ?? []) == ["/machine/peripheral/nic0", "/machine/peripheral/balloon0"])
        #expect(Self.storage(first) != nil && Self.storage(first) == Self.storage(second))

        let client = fleet.negotiatedClient(to: "v1")
        #expect(client.result("device_add", ["driver": "e1000", "id": "n1"]) == [:])
        #expect(Set(second?.devices.devices.compactMap(\.id) ?? []) == ["nic0", "balloon0", "n1"])
        #expect(Set(first?.devices.devices.compactMap(\.id) ?? []) == ["nic0", "balloon0"])
        #expect(Self.storage(first) != Self.storage(second))
        #expect(fleet.negotiatedClient(to: "v0").result("qom-list", ["path": "/machine/peripheral"])?.arrayValue?.count
                == client.result("qom-list", ["path": "/machine/peripheral"])!.arrayValue!.count - 1)
    }
}
