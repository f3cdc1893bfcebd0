import QMPFleetTesting
import QMPWire
import Testing

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
        let vm = try BlockVM("{drives: [{id: big, device: disk0, file: /tmp/bq/big.qcow2, format: qcow2, size: 8388607T, interface: virtio}]}")
        for _ in 0..<3 {
            #expect(vm.guest("read", ["device": "big", "offset": 0, "bytes": .int(1 << 62)])?["return"] == [:])
            #expect(vm.guest("write", ["device": "big", "offset": 0, "bytes": .int(1 << 62)])?["return"] == [:])
        }
        let stats = vm.ok("query-blockstats")?.arrayValue?.first { $0["device"] == "big" }?["stats"]
        #expect(stats?["rd_bytes"] == .int(Int64(bitPattern: 3 << 62)))
        #expect(stats?["wr_bytes"] == .int(Int64(bitPattern: 3 << 62)))
        #expect(stats?["rd_operations"] == 3)
    }
}
