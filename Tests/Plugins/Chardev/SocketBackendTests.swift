import QMPFleetTesting
import QMPWire
import Testing

/// A reconnecting socket client with `reconnect` at QAPI int's extremes:
/// QEMU 7.2 accepts them all (`{"return": {}}`, the chardev then
/// "disconnected:unix:PATH"); seconds * 1000 must not trap.
@Suite struct SocketBackendTests {
    @Test(arguments: [Int64.max, Int64.max / 1000 + 1, 1 << 53])
    func hugeReconnectSchedulesWithoutTrapping(reconnect: Int64) throws {
        let vm = try ChardevVM()
        let dir = ChardevVM.scratch()
        let path = dir + "/nobody.sock"
        let reply = vm.add("c1", "socket", ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": false,
                                            "reconnect": .int(reconnect)])
        #expect(reply?["return"] == [:])
        vm.fleet.advance(by: 3_600_000)
        let c1 = vm.ok("query-chardev")?.arrayValue?.first { $0["label"] == "c1" }
        #expect(c1?["filename"] == .string("disconnected:unix:\(path)"))
    }

    @Test(arguments: [Int64(-1), Int64.min])
    func negativeReconnectIsNone(reconnect: Int64) throws {
        let vm = try ChardevVM()
        let path = ChardevVM.scratch() + "/nobody.sock"
        let reply = vm.add("c1", "socket", ["addr": ["type": "unix", "data": ["path": .string(path)]], "server": false,
                                            "reconnect": .int(reconnect)])
        #expect(reply?["error"]?["desc"] == .string("Failed to add chardev 'c1': Failed to connect to '\(path)': No such file or directory"))
    }
}
