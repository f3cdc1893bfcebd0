import QMPWire
import Testing

/// object-add/object-del of memory backends and query-memdev, with QEMU 7.2's texts.
@Suite struct MemoryBackendTests {
    @Test func queryMemdevListsBackendsAndBoardRAM() throws {
        let vm = try MemoryVM()
        #expect(vm.ok("query-memdev") == [["id": "pc.ram", "size": 1073741824, "merge": true, "dump": true, "prealloc": false,
                                           "share": false, "reserve": true, "host-nodes": [], "policy": "default"]])
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-ram", "id": "m1", "size": 1073741824, "merge": false,
                                     "dump": false, "prealloc": true, "share": true]) == .object([:]))
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-file", "id": "f1", "size": 536870912,
                                     "mem-path": "/tmp/x", "policy": "interleave", "host-nodes": [0, 0]]) == .object([:]))
        let list = vm.ok("query-memdev")?.arrayValue ?? []
        #expect(list.map { $0["id"] } == ["f1", "m1", "pc.ram"])
        #expect(list[0]["host-nodes"] == [0])
        #expect(list[0]["policy"] == "interleave")
        #expect(list[1] == ["id": "m1", "size": 1073741824, "merge": false, "dump": false, "prealloc": true,
                            "share": true, "reserve": true, "host-nodes": [], "policy": "default"])
    }

    @Test func backendErrors() throws {
        let vm = try MemoryVM()
        func add(_ props: JSONObject, type: String = "memory-backend-ram") -> (String?, String?) {
            var args: JSONObject = ["qom-type": .string(type), "id": "m1"]
            for (k, v) in props { args[k] = v }
            return vm.error("object-add", args)
        }
        #expect(add([:]) == ("GenericError", "Parameter 'size' is missing"))
        #expect(add(["size": "512M"]) == ("GenericError", "Parameter 'size' expects uint64"))
        #expect(add(["size": 0]) == ("GenericError", "property 'size' of memory-backend-ram doesn't take value '0'"))
        #expect(add(["size": 1048576, "merge": "yes"]) == ("GenericError", "Invalid parameter type for 'merge', expected: boolean"))
        #expect(add(["size": 1048576, "policy": "x"]) == ("GenericError", "Parameter 'policy' does not accept value 'x'"))
        #expect(add(["size": 1048576, "host-nodes": 0]) == ("GenericError", "Invalid parameter type for 'host-nodes', expected: array"))
        #expect(add(["size": 1048576, "policy": "bind"]) == ("GenericError", "host-nodes must be set for policy bind"))
        #expect(add(["size": 1048576, "policy": "bind", "host-nodes": [5]]) == ("GenericError", "cannot bind memory to host NUMA nodes: Invalid argument"))
        #expect(add(["size": 1048576, "host-nodes": [0]])
                == ("GenericError", "host-nodes must be empty for policy default, or you should explicitly specify a policy other than default"))
        #expect(add(["size": 1048576, "policy": "bind", "host-nodes": [1025]]) == ("GenericError", "Invalid host-nodes value: 1025"))
        #expect(add(["size": 1048576, "mem-path": "/tmp"]) == ("GenericError", "Parameter 'mem-path' is unexpected"))
        #expect(add(["size": 1048576], type: "memory-backend-file") == ("GenericError", "Parameter 'mem-path' is missing"))
        // Nothing was created by the failures.
        #expect(vm.ok("query-memdev")?.arrayValue?.count == 1)
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-ram", "id": "m1", "size": 1048576]) == .object([:]))
        #expect(vm.error("object-add", ["qom-type": "memory-backend-ram", "id": "m1", "size": 1048576])
                == ("GenericError", "attempt to add duplicate property 'm1' to object (type 'container')"))
        #expect(vm.ok("object-del", ["id": "m1"]) == .object([:]))
        #expect(vm.error("object-del", ["id": "m1"]) == ("GenericError", "object 'm1' not found"))
    }

    @Test func hostNodesFromConfig() throws {
        let vm = try MemoryVM(memory: "{host-nodes: 4}")
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-ram", "id": "m1", "size": 1048576,
                                     "policy": "bind", "host-nodes": [2, 3]]) == .object([:]))
        #expect(vm.error("object-add", ["qom-type": "memory-backend-ram", "id": "m2", "size": 1048576, "policy": "bind", "host-nodes": [4]])
                == ("GenericError", "cannot bind memory to host NUMA nodes: Invalid argument"))
    }

    @Test func backendInUseCannotBeDeleted() throws {
        let vm = try MemoryVM()
        vm.plug("d1", memdev: "m1")
        #expect(vm.error("object-del", ["id": "m1"]) == ("GenericError", "object 'm1' is in use, can not be deleted"))
        #expect(vm.ok("query-memdev")?.arrayValue?.map { $0["id"] } == ["m1", "pc.ram"])
    }

    @Test func configBackendsExistAtStart() throws {
        let vm = try MemoryVM(memory: "{memdevs: [{id: m0, size: 512M}, {id: f0, qom-type: memory-backend-file, size: 1G, mem-path: /tmp/f0}]}")
        #expect(vm.ok("query-memdev")?.arrayValue?.map { $0["id"] } == ["f0", "m0", "pc.ram"])
        #expect(vm.ok("query-memdev")?.arrayValue?[1]["size"] == 536870912)
    }
}
