import QMPWire
import Testing

/// NIC drivers, query-rx-filter, the guest's filter changes and their event.
@Suite struct NICTests {
    @Test func deviceAddBindsBackendAndMAC() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}, {id: n1, type: user}]}")
        #expect(vm.ok("device_add", ["driver": "virtio-net-pci", "id": "nic0", "netdev": "n0", "mac": "52:54:00:AA:BB:CC"]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "rtl8139", "id": "nic1", "netdev": "n0"])
                == ("GenericError", "Property 'rtl8139.netdev' can't take value 'n0', it's in use"))
        #expect(vm.error("device_add", ["driver": "virtio-net-pci", "id": "nic1", "netdev": "nope"])
                == ("GenericError", "Property 'virtio-net-device.netdev' can't find value 'nope'"))
        #expect(vm.error("device_add", ["driver": "e1000", "id": "nic1", "netdev": "n1", "mac": "bad"])
                == ("GenericError", "Property 'e1000.mac' doesn't take value 'bad'"))
        #expect(vm.ok("device_add", ["driver": "virtio-net-pci", "id": "nic1", "netdev": "n1"]) == .object([:]))
        let filters = vm.ok("query-rx-filter")?.arrayValue ?? []
        #expect(filters.map { $0["name"] } == ["nic0", "nic1"])
        #expect(filters.map { $0["main-mac"] } == ["52:54:00:aa:bb:cc", "52:54:00:12:34:56"])
    }

    /// QEMU 7.2 (`-machine pc`) reads device_add's values through QemuOpts:
    /// these errors are the ones it gave, and a list is dropped (added).
    @Test func propertiesAreReadAsQemuOptsText() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}]}")
        #expect(vm.error("device_add", ["driver": "e1000", "netdev": true])
                == ("GenericError", "Property 'e1000.netdev' can't find value 'on'"))
        #expect(vm.error("device_add", ["driver": "e1000", "mac": false])
                == ("GenericError", "Property 'e1000.mac' doesn't take value 'off'"))
        #expect(vm.error("device_add", ["driver": "e1000", "netdev": .double(1.0)])
                == ("GenericError", "Property 'e1000.netdev' can't find value '1'"))
        #expect(vm.error("device_add", ["driver": "e1000", "mac": .double(0.1)])
                == ("GenericError", "Property 'e1000.mac' doesn't take value '0.10000000000000001'"))
        #expect(vm.ok("device_add", ["driver": "e1000", "id": "nic0", "netdev": [1]]) == .object([:]))
    }

    @Test func rxFilterMatchesQEMUAfterReset() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}], nics: [{id: nic0, netdev: n0}]}")
        let info = vm.ok("query-rx-filter", ["name": "nic0"])?.arrayValue?.first
        #expect(info?["promiscuous"] == true)
        #expect(info?["unicast"] == "normal")
        #expect(info?["multicast"] == "normal")
        #expect(info?["vlan"] == "all")
        #expect(info?["broadcast-allowed"] == false)
        #expect(info?["vlan-table"]?.arrayValue?.count == 4096)
        #expect(info?["vlan-table"]?.arrayValue?.first == 4095)
        #expect(info?["unicast-table"] == [])
        #expect(info?["multicast-table"] == [])
    }

    @Test func rxFilterErrors() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}], nics: [{id: nic1, model: e1000, netdev: n0}, {model: rtl8139}]}")
        #expect(vm.error("query-rx-filter", ["name": "nic1"]) == ("GenericError", "net client(nic1) doesn't support rx-filter querying"))
        #expect(vm.error("query-rx-filter", ["name": "n0"]) == ("GenericError", "net client(n0) isn't a NIC"))
        #expect(vm.error("query-rx-filter", ["name": "nope"]) == ("GenericError", "invalid net client name: nope"))
        // Cards without the feature are left out of the full list.
        #expect(vm.ok("query-rx-filter") == [])
    }

    @Test func filterChangedIsSentOnceUntilQueried() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}], nics: [{id: nic0, netdev: n0}]}")
        #expect(vm.guest("set-promiscuous", ["nic": "nic0", "on": false])?["return"] == .object([:]))
        #expect(vm.guest("add-multicast", ["nic": "nic0", "addresses": ["01:00:5e:00:00:01"]])?["return"] == .object([:]))
        let first = vm.events("NIC_RX_FILTER_CHANGED")
        #expect(first.count == 1)
        #expect(first.first?["data"] == ["name": "nic0", "path": "/machine/peripheral/nic0/virtio-backend"])
        let info = vm.ok("query-rx-filter", ["name": "nic0"])?.arrayValue?.first
        #expect(info?["promiscuous"] == false)
        #expect(info?["multicast-table"] == ["01:00:5e:00:00:01"])
        _ = vm.guest("rx-filter", ["nic": "nic0", "unicast": "all", "vlan-table": [5, 7]])
        #expect(vm.events("NIC_RX_FILTER_CHANGED").count == 1)
        _ = vm.ok("query-rx-filter")
        let after = vm.ok("query-rx-filter", ["name": "nic0"])?.arrayValue?.first
        #expect(after?["unicast"] == "all")
        #expect(after?["vlan"] == "normal")
        #expect(after?["vlan-table"] == [7, 5])
    }

    @Test func macTableOverflow() throws {
        let vm = try NetVM(net: "{nics: [{id: nic0}]}")
        let many = (0..<65).map { JSONValue.string("52:54:00:00:00:\(String($0, radix: 16).count == 1 ? "0" : "")\(String($0, radix: 16))") }
        _ = vm.guest("rx-filter", ["nic": "nic0", "unicast-table": .array(many)])
        let info = vm.ok("query-rx-filter", ["name": "nic0"])?.arrayValue?.first
        #expect(info?["unicast-overflow"] == true)
        #expect(info?["unicast-table"] == [])
    }

    @Test func guestActionsOnCardsWithoutFilter() throws {
        let vm = try NetVM(net: "{nics: [{id: nic1, model: e1000}]}")
        #expect(vm.guest("set-promiscuous", ["nic": "nic1", "on": true])?["error"]?["desc"]
                == "net client(nic1) doesn't support rx-filter querying")
    }

    @Test func unplugReleasesBackendAndMAC() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}]}")
        _ = vm.ok("device_add", ["driver": "virtio-net-pci", "id": "nic0", "netdev": "n0"])
        #expect(vm.ok("device_del", ["id": "nic0"]) == .object([:]))
        vm.fleet.advance(by: 100)
        // The virtio backend goes first, as QEMU 7.2 reports it.
        #expect(vm.events("DEVICE_DELETED").map { $0["data"] }
                == [["path": "/machine/peripheral/nic0/virtio-backend"], ["device": "nic0", "path": "/machine/peripheral/nic0"]])
        #expect(vm.ok("device_add", ["driver": "e1000", "id": "nic1", "netdev": "n0"]) == .object([:]))
        #expect(vm.ok("query-rx-filter") == [])
    }

    /// device_del takes a QOM path as well as an id; an anonymous device
    /// has one under peripheral-anon, numbered from 0 as QEMU 7.2 numbers it.
    @Test func unplugByPath() throws {
        let vm = try NetVM()
        #expect(vm.ok("device_add", ["driver": "e1000"]) == .object([:]))
        #expect(vm.ok("device_add", ["driver": "e1000", "id": "nic1"]) == .object([:]))
        let anonymous = "/machine/peripheral-anon/device[0]"
        #expect(vm.ok("device_del", ["id": .string(anonymous)]) == .object([:]))
        #expect(vm.ok("device_del", ["id": "/machine/peripheral/nic1"]) == .object([:]))
        vm.fleet.advance(by: 100)
        #expect(vm.events("DEVICE_DELETED").map { $0["data"] } == [["path": .string(anonymous)], ["device": "nic1", "path": "/machine/peripheral/nic1"]])
        #expect(vm.error("device_del", ["id": "nic1"]) == ("DeviceNotFound", "Device 'nic1' not found"))
        #expect(vm.ok("query-rx-filter") == [])
    }
}
