import QMPWire
import Testing

/// query-rocker and query-rocker-ports, and the rocker device, compared with QEMU 7.2.
@Suite struct RockerSwitchTests {
    @Test func seedExamples() throws {
        let vm = try RockerVM(rocker: RockerVM.seedSwitch)
        #expect(vm.ok("query-rocker", ["name": "sw1"]) == ["name": "sw1", "ports": 2, "id": 1327446905938])
        // QEMU 7.2 names ports "sw1p1", not the seed's "sw1.1".
        #expect(vm.ok("query-rocker-ports", ["name": "sw1"]) == [
            ["duplex": "full", "enabled": true, "name": "sw1p1", "autoneg": "off", "link-up": true, "speed": 10000],
            ["duplex": "full", "enabled": true, "name": "sw1p2", "autoneg": "off", "link-up": true, "speed": 10000],
        ])
    }

    /// QEMU 7.2 `-device rocker,name=sw1,len-ports=2`, then device_add of more switches.
    @Test func deviceAddMatchesQEMU() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 2}]}")
        #expect(vm.ok("query-rocker-ports", ["name": "sw1"]) == [
            ["duplex": "full", "enabled": false, "name": "sw1p1", "autoneg": "off", "link-up": false, "speed": 10000],
            ["duplex": "full", "enabled": false, "name": "sw1p2", "autoneg": "off", "link-up": false, "speed": 10000],
        ])
        #expect(vm.error("device_add", ["driver": "rocker", "name": "sw9", "world": "xx", "id": "r7"])
                == ("GenericError", "invalid argument requested world xx does not exist"))
        #expect(vm.ok("device_add", ["driver": "rocker", "name": "sw9", "world": "ofdpa", "fp_start_macaddr": "52:54:00:aa:bb:00", "id": "r8"]) == .object([:]))
        #expect(vm.ok("query-rocker", ["name": "sw9"]) == ["name": "sw9", "ports": 0, "id": 806011032658])
        #expect(vm.ok("query-rocker-ports", ["name": "sw9"]) == [])
        #expect(vm.ok("device_add", ["driver": "rocker", "id": "r10"]) == .object([:]))
        #expect(vm.ok("query-rocker", ["name": "rocker"]) == ["name": "rocker", "ports": 0, "id": 1331741873234])
        #expect(vm.ok("device_add", ["driver": "rocker", "name": "sw10", "len-ports": 100, "id": "r12"]) == .object([:]))
        #expect(vm.ok("query-rocker", ["name": "sw10"]) == ["name": "sw10", "ports": 62, "id": 1336036840530])
        #expect(vm.error("device_add", ["driver": "rocker", "name": "sw11", "len-ports": "x", "id": "r13"])
                == ("GenericError", "Parameter 'len-ports' expects integer"))
        #expect(vm.error("device_add", ["driver": "rocker", "name": "sw12", "fp_start_macaddr": "zz", "id": "r15"])
                == ("GenericError", "Property 'rocker.fp_start_macaddr' doesn't take value 'zz'"))
        #expect(vm.error("device_add", ["driver": "rocker", "name": "sw12", "len-ports": -1, "id": "r16"])
                == ("GenericError", "Parameter 'len-ports' expects uint32_t"))
        #expect(vm.ok("device_add", ["driver": "rocker", "name": "sw13", "len-ports": "3", "switch_id": "12", "id": "r18"]) == .object([:]))
        #expect(vm.ok("query-rocker", ["name": "sw13"]) == ["name": "sw13", "ports": 3, "id": 12])
        #expect(vm.error("device_add", ["driver": "rocker", "ports[0]": "n0", "id": "r19"]) == ("GenericError", "Property 'rocker.ports[0]' not found"))
    }

    /// QEMU 7.2 aborts on these two (msix_vector_unuse assertion); we answer its intended text.
    @Test func duplicateAndLongNames() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1}]}")
        #expect(vm.error("device_add", ["driver": "rocker", "name": "sw1", "id": "r1"]) == ("GenericError", "sw1 already exists"))
        #expect(vm.error("device_add", ["driver": "rocker", "name": "averyveryl", "id": "r2"])
                == ("GenericError", "name too long; please shorten to at most 9 chars"))
    }

    @Test func unknownSwitchErrors() throws {
        let vm = try RockerVM()
        #expect(vm.error("query-rocker", ["name": "nope"]) == ("GenericError", "rocker nope not found"))
        #expect(vm.error("query-rocker-ports", ["name": "nope"]) == ("GenericError", "rocker nope not found"))
        #expect(vm.error("query-rocker-of-dpa-flows", ["name": "nope", "tbl-id": 1]) == ("GenericError", "rocker nope not found"))
        #expect(vm.error("query-rocker-of-dpa-groups", ["name": "nope"]) == ("GenericError", "rocker nope not found"))
        #expect(vm.error("query-rocker", [:]) == ("GenericError", "Parameter 'name' is missing"))
    }

    @Test func unplugRemovesTheSwitch() throws {
        let vm = try RockerVM()
        _ = vm.ok("device_add", ["driver": "rocker", "name": "sw2", "len-ports": 3, "id": "r2"])
        #expect(vm.ok("device_del", ["id": "r2"]) == .object([:]))
        #expect(vm.ok("query-rocker", ["name": "sw2"]) == ["name": "sw2", "ports": 3, "id": 1327446905938])
        vm.fleet.advance(by: 100)
        #expect(vm.client.takeEvents().contains { $0["event"] == "DEVICE_DELETED" })
        #expect(vm.error("query-rocker", ["name": "sw2"]) == ("GenericError", "rocker sw2 not found"))
    }

    @Test func guestSetsPortsAndLinks() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 2}]}")
        #expect(vm.guest("port-settings", ["name": "sw1", "port": 2, "enabled": true, "speed": 1000, "duplex": "half", "autoneg": "on"])?["return"] == .object([:]))
        #expect(vm.guest("port-link", ["name": "sw1", "port": 1, "up": true])?["return"] == .object([:]))
        let ports = vm.ok("query-rocker-ports", ["name": "sw1"])?.arrayValue ?? []
        #expect(ports.map { $0["link-up"] } == [true, false])
        #expect(ports[1] == ["name": "sw1p2", "enabled": true, "link-up": false, "speed": 1000, "duplex": "half", "autoneg": "on"])
        #expect(vm.guest("port-link", ["name": "sw1", "port": 3, "up": true])?["error"]?["desc"] == "rocker sw1: no port 3 (-ROCKER_EINVAL)")
        // system_reset: the OF-DPA world and the port settings start over; the cable stays.
        _ = vm.ok("system_reset")
        let after = vm.ok("query-rocker-ports", ["name": "sw1"])?.arrayValue ?? []
        #expect(after[1] == ["name": "sw1p2", "enabled": false, "link-up": false, "speed": 10000, "duplex": "full", "autoneg": "off"])
        #expect(after[0]["link-up"] == true)
    }
}
