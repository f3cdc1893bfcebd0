import QMPWire
import Testing

/// The seed's examples for query-memdev, query-memory-devices and
/// query-acpi-ospm-status, from VMs configured like the examples.
@Suite struct SeedExampleTests {
    /// A 4 GiB pc with slots: the window starts at 5 GiB, where the
    /// example's DIMM sits.
    @Test func queryMemoryDevicesExample() throws {
        let vm = try MemoryVM("machine: pc, memory: {size: 4G, slots: 4, maxmem: 16G}")
        vm.plug("d1", memdev: "memX")
        #expect(vm.ok("query-memory-devices") == [
            ["data": ["addr": 5368709120, "hotpluggable": true, "hotplugged": true, "id": "d1", "memdev": "/objects/memX",
                      "node": 0, "size": 1073741824, "slot": 0], "type": "dimm"],
        ])
    }

    @Test func queryACPIOSPMStatusExample() throws {
        let vm = try MemoryVM()
        vm.plug("d1", memdev: "m1")
        vm.fleet.advance(by: 100)
        #expect(vm.ok("query-acpi-ospm-status") == [
            ["device": "d1", "slot": "0", "slot-type": "DIMM", "source": 1, "status": 0],
            ["slot": "1", "slot-type": "DIMM", "source": 0, "status": 0],
            ["slot": "2", "slot-type": "DIMM", "source": 0, "status": 0],
            ["slot": "3", "slot-type": "DIMM", "source": 0, "status": 0],
        ])
    }

    /// The example's entries have no `reserve` and the first no `id`
    /// (QEMU 2.x); QEMU 7.2 always reports both. The rest matches.
    @Test func queryMemdevExample() throws {
        let vm = try MemoryVM("machine: pc, memory: {size: 1G}", memory: """
            {host-nodes: 4, memdevs: [{id: mem1, size: 512M, prealloc: true, policy: preferred, host-nodes: [2, 3], merge: false},
                                      {id: mem0, size: 512M, policy: bind, host-nodes: [0, 1], merge: false}]}
            """)
        let list = vm.ok("query-memdev")?.arrayValue ?? []
        #expect(list.count == 3)
        #expect(list[0] == ["id": "mem0", "size": 536870912, "merge": false, "dump": true, "prealloc": false, "host-nodes": [0, 1],
                            "policy": "bind", "share": false, "reserve": true])
        #expect(list[1] == ["id": "mem1", "size": 536870912, "merge": false, "dump": true, "prealloc": true, "host-nodes": [2, 3],
                            "policy": "preferred", "share": false, "reserve": true])
    }
}
