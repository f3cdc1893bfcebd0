import QMPFleetTesting
import QMPWire
import Testing

extension BlockSuite {
/// The simulated guest's disk I/O with client-chosen offsets and sizes up
/// to 2^63-1: refused past the end without adding them, and the statistics
/// wrap as QEMU's uint64_t counters do instead of trapping.
@Suite struct GuestActionTests {
    @Test(arguments: [(Int64.max, Int64.max), (Int64.max, 1), (1, Int64.max), (1 << 62, 1 << 62)] as [(Int64, Int64)])
    func ioPastTheEndOverflowsNothing(offset: Int64, bytes: Int64) throws {
        let vm = try BlockVM()
        for action in ["write", "read"] {
            let reply = vm.guest(action, ["device": "drive0", "offset": .int(offset), "bytes": .int(bytes)])
            #expect(reply?["error"]?["desc"] == "Request beyond the end of the disk")
        }
    }

    @Test func statisticsWrap() throws {
        let vm = try BlockVM(GuestActionTests.huge)
        for _ in 0..<3 {
            #expect(vm.guest("read", ["device": "big", "offset": 0, "bytes": .int(1 << 62)])?["return"] == [:])
            #expect(vm.guest("write", ["device": "big", "offset": 0, "bytes": .int(1 << 62)])?["return"] == [:])
        }
        let stats = vm.ok("query-blockstats")?.arrayValue?.first { $0["device"] == "big" }?["stats"]
        #expect(stats?["rd_bytes"] == .int(Int64(bitPattern: 3 << 62)))
        #expect(stats?["wr_bytes"] == .int(Int64(bitPattern: 3 << 62)))
        #expect(stats?["rd_operations"] == 3)
    }

    static let huge = "{drives: [{id: big, device: disk0, file: /tmp/bq/big.qcow2, format: qcow2, size: 8388607T, interface: virtio}]}"

    /// Dirty bitmaps hold ranges: a whole-disk write at 512-byte granularity
    /// and a merge from 2^31-byte chunks (QAPI uint32's largest power of 2) are instant and exact.
    @Test func wholeDiskBitmapsAtExtremeGranularities() throws {
        let vm = try BlockVM(GuestActionTests.huge)
        let size = Int64(8_388_607) << 40
        #expect(vm.ok("block-dirty-bitmap-add", ["node": "big", "name": "fine", "granularity": 512]) == [:])
        #expect(vm.ok("block-dirty-bitmap-add", ["node": "big", "name": "coarse", "granularity": .int(1 << 31)]) == [:])
        let start = ContinuousClock.now
        #expect(vm.guest("write", ["device": "big", "offset": 0, "bytes": .int(size)])?["return"] == [:])
        #expect(vm.ok("block-dirty-bitmap-clear", ["node": "big", "name": "fine"]) == [:])
        #expect(vm.guest("write", ["device": "big", "offset": .int(size - 512), "bytes": 512])?["return"] == [:])
        #expect(vm.ok("block-dirty-bitmap-merge", ["node": "big", "target": "fine", "bitmaps": ["coarse"]]) == [:])
        #expect(ContinuousClock.now - start < .milliseconds(100))
        let counts = vm.inserted("big")?["dirty-bitmaps"]?.arrayValue?.map { $0["count"] }
        #expect(counts == [.int(size), .int(size)])
    }

    /// A job on a disk of nearly 2^63 bytes at a speed whose 9e15-byte
    /// steps jump from below the end to past 2^63-1: the offset stops at
    /// the end instead of the sum overflowing.
    @Test func jobStepPastInt64OnAHugeDisk() throws {
        let vm = try BlockVM(GuestActionTests.huge)
        #expect(vm.ok("drive-backup", ["device": "big", "job-id": "b1", "sync": "full", "target": "/tmp/bq/hb.qcow2",
                                       "format": "qcow2", "speed": 90_000_000_000_000_000]) == [:])
        vm.advance(200_000)
        #expect(vm.jobs().isEmpty)
    }
}
}
