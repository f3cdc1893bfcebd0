import QMPWire
import Testing

extension BlockSuite {
/// query-block, query-named-block-nodes and query-blockstats in QEMU 7.2's
/// shapes for the same drives (recorded from QEMU with -drive if=none + -device).
@Suite struct QueryTests {
    @Test func queryBlockMatchesQEMU() throws {
        let vm = try BlockVM()
        let blocks = try #require(vm.ok("query-block")?.arrayValue)
        #expect(blocks.map { $0["device"] } == ["drive0", "cd0", "drive1"])
        let drive0 = blocks[0]
        #expect(drive0["qdev"] == "/machine/peripheral/virtio0/virtio-backend")
        #expect(drive0["type"] == "unknown")
        #expect(drive0["removable"] == false)
        #expect(drive0["locked"] == false)
        #expect(drive0["io-status"] == "ok")
        #expect(drive0["tray_open"] == nil)
        let inserted = try #require(drive0["inserted"])
        #expect(inserted["image"] == [
            "filename": "/tmp/bq/d0.qcow2", "format": "qcow2", "dirty-flag": false, "actual-size": 16977920,
            "virtual-size": 1073741824, "cluster-size": 65536,
            "format-specific": ["type": "qcow2", "data": ["compat": "1.1", "compression-type": "zlib", "lazy-refcounts": false,
                                                          "refcount-bits": 16, "corrupt": false, "extended-l2": false]]])
        #expect(inserted["file"] == "/tmp/bq/d0.qcow2")
        #expect(inserted["drv"] == "qcow2")
        #expect(inserted["ro"] == false)
        #expect(inserted["backing_file_depth"] == 0)
        #expect(inserted["write_threshold"] == 0)
        #expect(inserted["cache"] == ["writeback": true, "direct": false, "no-flush": false])
        #expect(inserted["node-name"]?.stringValue?.hasPrefix("#block") == true)
        let keys = Set(inserted.objectValue?.keys ?? [])
        #expect(keys == ["iops_rd", "detect_zeroes", "image", "iops_wr", "ro", "node-name", "backing_file_depth", "drv", "iops",
                         "bps_wr", "write_threshold", "encrypted", "bps", "bps_rd", "cache", "file"])
        #expect(blocks[1]["qdev"] == "cdrom0")
        #expect(blocks[1]["removable"] == true)
        #expect(blocks[1]["tray_open"] == false)
        #expect(blocks[1]["inserted"]?["ro"] == true)
        #expect(blocks[2]["qdev"] == "disk1")
    }

    @Test func namedNodesNewestFirstWithFileNodes() throws {
        let vm = try BlockVM()
        let nodes = try #require(vm.ok("query-named-block-nodes")?.arrayValue)
        #expect(nodes.map { $0["drv"] } == ["raw", "file", "raw", "file", "qcow2", "file"])
        #expect(nodes[5]["image"]?["format"] == "file")
        #expect(nodes[5]["image"]?["virtual-size"] == nodes[5]["image"]?["actual-size"])
    }

    @Test func blockstatsHaveParentFileNodes() throws {
        let vm = try BlockVM()
        let stats = try #require(vm.ok("query-blockstats")?.arrayValue)
        #expect(stats[0]["device"] == "drive0")
        #expect(stats[0]["stats"]?["account_invalid"] == true)
        #expect(stats[0]["driver-specific"] == nil)
        #expect(stats[0]["parent"]?["driver-specific"] == ["driver": "file", "discard-nb-ok": 0, "discard-nb-failed": 0, "discard-bytes-ok": 0])
        #expect(stats[0]["parent"]?["stats"]?["account_invalid"] == false)
        #expect(stats[0]["stats"]?["timed_stats"] == [])
        let nodes = try #require(vm.ok("query-blockstats", ["query-nodes": true])?.arrayValue)
        #expect(nodes.count == 6)
        #expect(nodes.allSatisfy { $0["device"] == nil })
    }

    @Test func guestIOAdvancesCounters() throws {
        let vm = try BlockVM()
        vm.guest("write", ["device": "drive0", "offset": 1048576, "bytes": 65536])
        vm.guest("read", ["device": "virtio0", "bytes": 8192])
        vm.advance(1000)
        let s = try #require(vm.ok("query-blockstats")?.arrayValue?.first?["stats"])
        #expect(s["wr_bytes"] == 65536)
        #expect(s["wr_operations"] == 1)
        #expect(s["rd_bytes"] == 8192)
        #expect(s["rd_operations"] == 1)
        #expect(s["wr_highest_offset"] == 1114112)
        #expect(s["idle_time_ns"] == 1_000_000_000)
    }
}
}
