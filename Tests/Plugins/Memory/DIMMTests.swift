import QMPWire
import Testing

/// pc-dimm/nvdimm placement and limits, as QEMU 7.2 answers them.
@Suite struct DIMMTests {
    @Test func dimmsGoFirstFitIntoTheWindowAfterRAM() throws {
        let vm = try MemoryVM("machine: pc, memory: {size: 1G, slots: 2, maxmem: 4G}")
        vm.plug("d1", memdev: "m1", ["slot": 1])
        vm.plug("d2", memdev: "m2", size: 512 << 20)
        #expect(vm.ok("query-memory-devices") == [
            ["type": "dimm", "data": ["id": "d1", "addr": 4294967296, "size": 1073741824, "slot": 1, "node": 0,
                                      "memdev": "/objects/m1", "hotplugged": true, "hotpluggable": true]],
            ["type": "dimm", "data": ["id": "d2", "addr": 5368709120, "size": 536870912, "slot": 0, "node": 0,
                                      "memdev": "/objects/m2", "hotplugged": true, "hotpluggable": true]],
        ])
    }

    @Test(arguments: [
        ("pc", "4G", Int64(5368709120)), ("q35", "4G", Int64(6442450944)), ("q35", "1G", Int64(4294967296)), ("pc", "3584M", Int64(5368709120)),
    ])
    func windowStartsWhereQEMUPutsIt(machine: String, ram: String, addr: Int64) throws {
        let vm = try MemoryVM("machine: \(machine), memory: {size: \(ram), slots: 4, maxmem: 16G}")
        vm.plug("d1", memdev: "m1")
        #expect(vm.ok("query-memory-devices")?.arrayValue?.first?["data"]?["addr"] == .int(addr))
    }

    @Test func placementErrors() throws {
        let vm = try MemoryVM("machine: pc, memory: {size: 512M, slots: 2, maxmem: 2G}")
        for (id, size) in [("m1", Int64(1) << 30), ("m3", Int64(2) << 30), ("m4", Int64(2) << 20), ("m5", Int64(2) << 20), ("odd", 1_000_000)] {
            #expect(vm.ok("object-add", ["qom-type": "memory-backend-ram", "id": .string(id), "size": .int(size)]) == .object([:]))
        }
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1"]) == ("GenericError", "'memdev' property must be set"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "nope"]) == ("DeviceNotFound", "Device 'nope' not found"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "odd"])
                == ("GenericError", "backend memory size must be multiple of 0x200000"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m3"])
                == ("GenericError", "not enough space, currently 0x0 in use of total space for memory devices 0x60000000"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1", "slot": 5])
                == ("GenericError", "invalid slot number 5, valid range is [0-1]"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1", "addr": 4294967297])
                == ("GenericError", "address must be aligned to 0x200000 bytes"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1", "addr": 2097152])
                == ("GenericError", "can't add memory device [0x200000:0x40000000], usable range for memory devices [0x100000000:0xe0000000]"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1", "node": 1])
                == ("GenericError", "'DIMM property node has value 1' which exceeds the number of numa nodes: 1"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1", "slot": "x"])
                == ("GenericError", "Parameter 'slot' expects integer"))
        #expect(vm.error("device_add", ["driver": "nvdimm", "id": "n1", "memdev": "m1"])
                == ("GenericError", "nvdimm is not enabled: missing 'nvdimm' in '-M'"))
        #expect(vm.ok("query-memory-devices") == [])

        #expect(vm.ok("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1", "addr": "0x140000000"]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m4"]) == ("GenericError", "Duplicate device ID 'd1'"))
        // QEMU checks the space before it sees that the backend is busy.
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "m1"])
                == ("GenericError", "not enough space, currently 0x40000000 in use of total space for memory devices 0x60000000"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "m4", "slot": 0]) == ("GenericError", "slot 0 is busy"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "m4", "addr": 5368709120])
                == ("GenericError", "address range conflicts with memory device id='d1'"))
        #expect(vm.ok("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "m4"]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d3", "memdev": "m5"]) == ("GenericError", "no free slots available"))
        let devices = vm.ok("query-memory-devices")?.arrayValue ?? []
        #expect(devices.map { $0["data"]?["addr"] } == [5368709120, 4294967296])
        #expect(devices.map { $0["data"]?["slot"] } == [0, 1])
    }

    @Test func maxmemCountsWhatIsInUse() throws {
        let vm = try MemoryVM("machine: pc, memory: {size: 512M, slots: 4, maxmem: 2G}")
        vm.plug("d1", memdev: "m1")
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-ram", "id": "m2", "size": 1073741824]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "m2"])
                == ("GenericError", "not enough space, currently 0x40000000 in use of total space for memory devices 0x60000000"))
    }

    @Test func busyBackend() throws {
        let vm = try MemoryVM()
        vm.plug("d1", memdev: "m1")
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "m1"]) == ("GenericError", "can't use already busy memdev: m1"))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d2", "memdev": "/objects/m1"]) == ("GenericError", "can't use already busy memdev: m1"))
        #expect(vm.ok("query-memory-devices")?.arrayValue?.count == 1)
    }

    @Test func withoutSlotsOrMaxmem() throws {
        let vm = try MemoryVM("machine: pc, memory: 1G")
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-ram", "id": "m1", "size": 2097152]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "pc-dimm", "id": "d1", "memdev": "m1"])
                == ("GenericError", "no slots where allocated, please specify the 'slots' option"))
        #expect(vm.ok("query-acpi-ospm-status") == [])
    }

    @Test func nvdimmWhenEnabled() throws {
        let vm = try MemoryVM(memory: "{nvdimm: true}")
        #expect(vm.ok("object-add", ["qom-type": "memory-backend-file", "id": "f1", "size": 1073741824, "mem-path": "/tmp/f1", "share": true]) == .object([:]))
        #expect(vm.ok("device_add", ["driver": "nvdimm", "id": "n1", "memdev": "f1"]) == .object([:]))
        #expect(vm.ok("query-memory-devices") == [
            ["type": "nvdimm", "data": ["id": "n1", "addr": 4294967296, "size": 1073741824, "slot": 0, "node": 0,
                                        "memdev": "/objects/f1", "hotplugged": true, "hotpluggable": true]],
        ])
        // NVDIMMs are not ACPI memory-hotplug devices.
        #expect(vm.ok("query-acpi-ospm-status")?.arrayValue?.first == ["slot": "0", "slot-type": "DIMM", "source": 0, "status": 0])
        #expect(vm.error("device_del", ["id": "n1"]) == ("GenericError", "nvdimm device hot unplug is not supported yet."))
    }
}
