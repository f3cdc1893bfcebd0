import QMPWire
import Testing

extension BlockSuite {
/// blockdev-add/-del, block_resize, throttling, write thresholds and the
/// other node commands, with QEMU 7.2's texts.
@Suite struct NodeTests {
    @Test func resize() throws {
        let vm = try BlockVM()
        #expect(vm.ok("block_resize", ["device": "drive0", "size": 536870912]) == [:])
        #expect(vm.inserted("drive0")?["image"]?["virtual-size"] == 536870912)
        #expect(vm.ok("block_resize", ["device": "drive0", "size": 2147483648]) == [:])
        #expect(vm.error("block_resize", ["device": "drive0", "size": 2147483649]) == ("GenericError", "The new size must be a multiple of 512"))
        #expect(vm.error("block_resize", ["device": "nope", "size": 1]) == ("GenericError", "Cannot find device='nope' nor node-name=''"))
        #expect(vm.error("block_resize", ["size": 1]) == ("GenericError", "Cannot find device='' nor node-name=''"))
        #expect(vm.error("block_resize", ["device": "drive0", "size": -1]) == ("GenericError", "Parameter 'size' expects a >0 size"))
        #expect(vm.ok("block_resize", ["device": "drive1", "size": 1048576]) == [:])
        _ = vm.ok("blockdev-snapshot-internal-sync", ["device": "drive0", "name": "s"])
        #expect(vm.error("block_resize", ["device": "drive0", "size": 1048576]) == ("GenericError", "Can't resize an image which has snapshots"))
    }

    @Test func throttle() throws {
        let vm = try BlockVM()
        let zero: JSONObject = ["device": "drive0", "bps": 0, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 0, "iops_wr": 0]
        func with(_ extra: JSONObject) -> JSONObject { var a = zero; for (k, v) in extra { a[k] = v }; return a }
        let range = ("GenericError", "bps/iops/max values must be within [0, 1000000000000000]")
        #expect(vm.error("block_set_io_throttle", with(["bps": -1])) == range)
        #expect(vm.error("block_set_io_throttle", with(["bps": 1000000000000001])) == range)
        #expect(vm.error("block_set_io_throttle", with(["bps": 1000, "bps_rd": 1000]))
                == ("GenericError", "bps/iops/max total values and read/write values cannot be used at the same time"))
        #expect(vm.error("block_set_io_throttle", with(["bps": 1000, "bps_max": 500])) == ("GenericError", "bps_max/iops_max cannot be lower than bps/iops"))
        #expect(vm.error("block_set_io_throttle", with(["bps": 1000, "bps_max_length": 5])) == ("GenericError", "burst length set without burst rate"))
        #expect(vm.error("block_set_io_throttle", with(["device": "nope", "bps": 1000])) == ("DeviceNotFound", "Device 'nope' not found"))
        #expect(vm.ok("block_set_io_throttle", with(["bps": 1000, "iops": 200, "group": "g1", "iops_size": 4096])) == [:])
        let inserted = try #require(vm.inserted("drive0"))
        #expect(inserted["bps"] == 1000)
        #expect(inserted["iops"] == 200)
        #expect(inserted["group"] == "g1")
        #expect(inserted["iops_size"] == 4096)
        #expect(inserted["bps_max"] == nil)
        #expect(vm.ok("block_set_io_throttle", zero) == [:])
        #expect(vm.inserted("drive0")?["group"] == nil)
    }

    @Test func writeThresholdFiresOnceOnAGuestWrite() throws {
        let vm = try BlockVM()
        #expect(vm.error("block-set-write-threshold", ["node-name": "nope", "write-threshold": 1]) == ("GenericError", "Device 'nope' not found"))
        #expect(vm.error("block-set-write-threshold", ["node-name": "drive0", "write-threshold": 1]) == ("GenericError", "Device 'drive0' not found"))
        let node = try #require(vm.inserted("drive0")?["node-name"]?.stringValue)
        #expect(vm.ok("block-set-write-threshold", ["node-name": .string(node), "write-threshold": 1048576]) == [:])
        #expect(vm.inserted("drive0")?["write_threshold"] == 1048576)
        vm.guest("write", ["device": "drive0", "offset": 1044480, "bytes": 8192])
        #expect(vm.events().map { $0["data"] } == [["node-name": .string(node), "amount-exceeded": 4096, "write-threshold": 1048576]])
        vm.guest("write", ["device": "drive0", "offset": 2097152, "bytes": 8192])
        #expect(vm.events().isEmpty)
        #expect(vm.inserted("drive0")?["write_threshold"] == 0)
    }

    @Test func blockdevAddAndDel() throws {
        let vm = try BlockVM()
        let file: JSONValue = ["driver": "file", "filename": "/tmp/bq/d1.raw"]
        #expect(vm.error("blockdev-add", ["driver": "qcow2", "node-name": "n1", "file": ["driver": "file", "filename": "/tmp/bq/d0.qcow2"]])
                == ("GenericError", "Failed to get \"write\" lock"))
        #expect(vm.error("blockdev-add", ["driver": "raw", "node-name": "n2", "file": ["driver": "file", "filename": "/nonexistent/n.raw"]])
                == ("GenericError", "Could not open '/nonexistent/n.raw': No such file or directory"))
        #expect(vm.error("blockdev-add", ["driver": "raw", "file": file]) == ("GenericError", "'node-name' must be specified for the root node"))
        #expect(vm.error("blockdev-add", ["driver": "raw", "node-name": "drive0", "file": ["driver": "null-co"]])
                == ("GenericError", "node-name=drive0 is conflicting with a device id"))
        #expect(vm.ok("blockdev-add", ["driver": "raw", "node-name": "r2", "file": ["driver": "null-co", "size": 1048576]]) == [:])
        #expect(vm.error("blockdev-add", ["driver": "raw", "node-name": "r2", "file": ["driver": "null-co"]])
                == ("GenericError", "Duplicate nodes with node-name='r2'"))
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.first?["node-name"] == "r2")
        #expect(vm.error("blockdev-del", ["node-name": "nope"]) == ("GenericError", "Failed to find node with node-name='nope'"))
        let fileNode = try #require(vm.ok("query-named-block-nodes")?.arrayValue?[1]["node-name"]?.stringValue)
        #expect(vm.error("blockdev-del", ["node-name": .string(fileNode)]) == ("GenericError", "Node \(fileNode) is not owned by the monitor"))
        #expect(vm.error("x-blockdev-change", ["parent": "r2", "node": "nope"]) == ("GenericError", "Node 'nope' not found"))
        #expect(vm.error("x-blockdev-change", ["parent": "r2", "child": "nope"]) == ("GenericError", "Node 'r2' does not have child 'nope'"))
        #expect(vm.error("x-blockdev-change", ["parent": "nope", "child": "nope"]) == ("GenericError", "Cannot find device='nope' nor node-name='nope'"))
        #expect(vm.ok("x-blockdev-del", ["node-name": "r2"]) == [:])
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.count == 6)
        #expect(vm.error("change-backing-file", ["device": "drive0", "image-node-name": "nope", "backing-file": "/x"])
                == ("GenericError", "Cannot find device='' nor node-name='nope'"))
        #expect(vm.error("change-backing-file", ["device": "nope", "image-node-name": "nope", "backing-file": "/x"])
                == ("GenericError", "Cannot find device='nope' nor node-name='nope'"))
        #expect(vm.error("block_passwd", ["device": "drive0", "password": "x"]) == ("GenericError", "Device 'drive0' is not encrypted"))
    }
}
}
