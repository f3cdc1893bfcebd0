import QMPWire
import Testing

/// OF-DPA flows and groups: the guest installs them, queries filter them as QEMU 7.2 does.
@Suite struct OfDpaTests {
    @Test func seedFlowExample() throws {
        let vm = try RockerVM(rocker: RockerVM.seedSwitch)
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1"]) == [
            ["key": ["in-pport": 0, "priority": 1, "tbl-id": 0], "hits": 138, "cookie": 0, "action": ["goto-tbl": 10], "mask": ["in-pport": 4294901760]],
        ])
    }

    /// The seed's groups; QEMU 7.2 linked with GLib 2.74 lists them in this order
    /// (the seed's order came from an older GLib's hash slots).
    @Test func seedGroupExample() throws {
        let vm = try RockerVM(rocker: RockerVM.seedSwitch)
        let groups = vm.ok("query-rocker-of-dpa-groups", ["name": "sw1"])
        #expect(groups == [
            ["type": 0, "out-pport": 2, "pport": 2, "vlan-id": 3841, "pop-vlan": 1, "id": 251723778],
            ["type": 0, "out-pport": 0, "pport": 0, "vlan-id": 3841, "pop-vlan": 1, "id": 251723776],
            ["type": 0, "out-pport": 0, "pport": 0, "vlan-id": 3840, "pop-vlan": 1, "id": 251658240],
            ["type": 0, "out-pport": 1, "pport": 1, "vlan-id": 3840, "pop-vlan": 1, "id": 251658241],
        ])
    }

    /// Without tbl-id QEMU 7.2 lists table 0 only; 4294967295 lists all.
    @Test func flowTableFilter() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 2}]}")
        #expect(vm.guest("flow-add", ["name": "sw1", "cookie": 1, "key": ["priority": 1, "tbl-id": 0, "in-pport": 1], "action": ["goto-tbl": 10]])?["return"] == .object([:]))
        #expect(vm.guest("flow-add", ["name": "sw1", "cookie": 2, "key": ["priority": 2, "tbl-id": 10, "in-pport": 1, "vlan-id": 0],
                                      "mask": ["vlan-id": 4095], "action": ["goto-tbl": 20, "new-vlan-id": 4094]])?["return"] == .object([:]))
        #expect(vm.guest("flow-add", ["name": "sw1", "cookie": 3, "key": ["priority": 3, "tbl-id": 30, "eth-type": 2048, "ip-dst": "10.0.0.0/24"],
                                      "action": ["group-id": 536870913]])?["return"] == .object([:]))
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1"])?.arrayValue?.map { $0["cookie"] } == [1])
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": 10]) == [
            ["cookie": 2, "hits": 0, "key": ["priority": 2, "tbl-id": 10, "in-pport": 1, "vlan-id": 0], "mask": ["vlan-id": 4095],
             "action": ["goto-tbl": 20, "new-vlan-id": 4094]],
        ])
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": 30]) == [
            ["cookie": 3, "hits": 0, "key": ["priority": 3, "tbl-id": 30, "eth-type": 2048, "ip-dst": "10.0.0.0/24"], "mask": [:],
             "action": ["group-id": 536870913]],
        ])
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": 50]) == [])
        let all = vm.ok("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": 4294967295])?.arrayValue ?? []
        #expect(Set(all.compactMap { $0["cookie"]?.int64Value }) == [1, 2, 3])
        #expect(vm.error("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": -1]) == ("GenericError", "Parameter 'tbl-id' expects uint32_t"))
    }

    @Test func flowErrorsAndRemoval() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 2}]}")
        let flow: JSONObject = ["name": "sw1", "cookie": 7, "key": ["priority": 1, "tbl-id": 0, "in-pport": 1]]
        _ = vm.guest("flow-add", flow)
        #expect(vm.guest("flow-add", flow)?["error"]?["desc"] == "rocker sw1: flow 7 already exists (-ROCKER_EEXIST)")
        #expect(vm.guest("flow-add", ["name": "sw1", "cookie": 8, "key": ["priority": 1, "tbl-id": 5]])?["error"]?["desc"]
                == "rocker sw1: flow table 5 not supported (-ROCKER_ENOTSUP)")
        #expect(vm.guest("flow-add", ["name": "nope", "cookie": 8, "key": ["priority": 1, "tbl-id": 0]])?["error"]?["desc"] == "rocker nope not found")
        #expect(vm.guest("flow-del", ["name": "sw1", "cookie": 7])?["return"] == .object([:]))
        #expect(vm.guest("flow-del", ["name": "sw1", "cookie": 7])?["error"]?["desc"] == "rocker sw1: flow 7 not found (-ROCKER_ENOENT)")
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1"]) == [])
    }

    /// Without type QEMU 7.2 lists L2 interface groups only; 9 lists all.
    @Test func groupTypeFilter() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 2}]}")
        let l2a: UInt32 = 0x0064_0001, l2b: UInt32 = 0x0064_0002
        _ = vm.guest("group-add", ["name": "sw1", "id": .uint(UInt64(l2a)), "out-pport": 1, "pop-vlan": 1])
        _ = vm.guest("group-add", ["name": "sw1", "id": .uint(UInt64(l2b)), "out-pport": 2, "pop-vlan": 0])
        let rewrite: UInt32 = 0x1000_0005
        #expect(vm.guest("group-add", ["name": "sw1", "id": .uint(UInt64(rewrite)), "group-id": .uint(UInt64(l2a)),
                                       "set-eth-dst": "52:54:00:00:00:01", "set-vlan-id": 100])?["return"] == .object([:]))
        let flood: UInt32 = 0x4064_0000
        #expect(vm.guest("group-add", ["name": "sw1", "id": .uint(UInt64(flood)), "group-ids": [.uint(UInt64(l2a)), .uint(UInt64(l2b))]])?["return"] == .object([:]))
        #expect(vm.ok("query-rocker-of-dpa-groups", ["name": "sw1"])?.arrayValue?.count == 2)
        #expect(vm.ok("query-rocker-of-dpa-groups", ["name": "sw1", "type": 1]) == [
            ["id": .uint(UInt64(rewrite)), "type": 1, "index": 5, "group-id": .uint(UInt64(l2a)), "set-vlan-id": 100, "set-eth-dst": "52:54:00:00:00:01"],
        ])
        #expect(vm.ok("query-rocker-of-dpa-groups", ["name": "sw1", "type": 4]) == [
            ["id": .uint(UInt64(flood)), "type": 4, "vlan-id": 100, "index": 0, "group-ids": [.uint(UInt64(l2b)), .uint(UInt64(l2a))]],
        ])
        #expect(vm.ok("query-rocker-of-dpa-groups", ["name": "sw1", "type": 9])?.arrayValue?.count == 4)
        #expect(vm.ok("query-rocker-of-dpa-groups", ["name": "sw1", "type": 2]) == [])
        #expect(vm.error("query-rocker-of-dpa-groups", ["name": "sw1", "type": 256]) == ("GenericError", "Parameter 'type' expects uint8_t"))
    }

    @Test func groupErrors() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 2}]}")
        #expect(vm.guest("group-add", ["name": "sw1", "id": 1])?["error"]?["desc"]
                == "rocker sw1: group 1 needs 'out-pport' and 'pop-vlan' (-ROCKER_EINVAL)")
        #expect(vm.guest("group-add", ["name": "sw1", "id": 268435457, "group-id": 99])?["error"]?["desc"]
                == "rocker sw1: group 268435457: next group 99 is not an L2 interface group (-ROCKER_EINVAL)")
        #expect(vm.guest("group-add", ["name": "sw1", "id": 1879048193])?["error"]?["desc"]
                == "rocker sw1: group 1879048193 of type 7 not supported (-ROCKER_ENOTSUP)")
        _ = vm.guest("group-add", ["name": "sw1", "id": 1, "out-pport": 1, "pop-vlan": 1])
        #expect(vm.guest("group-add", ["name": "sw1", "id": 1, "out-pport": 1, "pop-vlan": 1])?["error"]?["desc"]
                == "rocker sw1: group 1 already exists (-ROCKER_EEXIST)")
        #expect(vm.guest("group-del", ["name": "sw1", "id": 1])?["return"] == .object([:]))
        #expect(vm.guest("group-del", ["name": "sw1", "id": 1])?["error"]?["desc"] == "rocker sw1: group 1 not found (-ROCKER_ENOENT)")
    }

    /// Traffic walks the pipeline from table 0; hits advance on each flow it matches.
    @Test func trafficAdvancesHits() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, ports: [{enabled: true, link-up: true}, {enabled: false, link-up: true}]}]}")
        _ = vm.guest("flow-add", ["name": "sw1", "cookie": 1, "key": ["priority": 1, "tbl-id": 0, "in-pport": 0], "mask": ["in-pport": 4294901760], "action": ["goto-tbl": 10]])
        _ = vm.guest("flow-add", ["name": "sw1", "cookie": 2, "key": ["priority": 1, "tbl-id": 10, "in-pport": 1, "vlan-id": 0], "action": ["goto-tbl": 50, "new-vlan-id": 100]])
        _ = vm.guest("flow-add", ["name": "sw1", "cookie": 3, "key": ["priority": 1, "tbl-id": 50, "vlan-id": 100, "eth-dst": "52:54:00:00:00:02"]])
        _ = vm.guest("flow-add", ["name": "sw1", "cookie": 4, "key": ["priority": 0, "tbl-id": 50, "vlan-id": 100]])
        #expect(vm.guest("traffic", ["name": "sw1", "in-pport": 1, "eth-dst": "52:54:00:00:00:02", "packets": 5])?["return"] == ["hits": [1, 2, 3]])
        #expect(vm.guest("traffic", ["name": "sw1", "in-pport": 1, "eth-dst": "52:54:00:00:00:09"])?["return"] == ["hits": [1, 2, 4]])
        // Port 2 is disabled: nothing arrives.
        #expect(vm.guest("traffic", ["name": "sw1", "in-pport": 2])?["return"] == ["hits": []])
        let all = vm.ok("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": 4294967295])?.arrayValue ?? []
        var hits: [Int64: Int64] = [:]
        for flow in all { hits[flow["cookie"]?.int64Value ?? -1] = flow["hits"]?.int64Value }
        #expect(hits == [1: 6, 2: 6, 3: 5, 4: 1])
        _ = vm.ok("system_reset")
        #expect(vm.ok("query-rocker-of-dpa-flows", ["name": "sw1", "tbl-id": 4294967295]) == [])
    }

    /// Many groups: the listing follows GLib's table through resizes (a reversed walk of its slots).
    @Test func manyGroupsKeepAStableOrder() throws {
        let vm = try RockerVM(rocker: "{switches: [{name: sw1, len-ports: 4}]}")
        for port in 1...20 {
            _ = vm.guest("group-add", ["name": "sw1", "id": .int(Int64(0x0001_0000 | port)), "out-pport": .int(Int64(port)), "pop-vlan": 0])
        }
        let ids = vm.ok("query-rocker-of-dpa-groups", ["name": "sw1"])?.arrayValue?.compactMap { $0["id"]?.int64Value } ?? []
        #expect(Set(ids) == Set((1...20).map { Int64(0x0001_0000 | $0) }))
        #expect(ids != ids.sorted() && ids != ids.sorted().reversed())
    }
}
