import QMPWire
import Testing

/// `query-cpus-fast`, which the plugin serves in place of the core so plugged
/// vCPUs appear and ejected ones go. Expected replies recorded from QEMU 7.2
/// `-machine pc -m 1G,slots=4,maxmem=4G -smp 1,cores=4,maxcpus=4`.
@Suite struct QueryCPUsFastTests {
    /// Entries without `thread-id`, which is the host's.
    func entries(_ vm: CPUVM) -> [JSONValue] {
        (vm.ok("query-cpus-fast")?.arrayValue ?? []).map { entry in
            guard case .object(var o) = entry else { return entry }
            o["thread-id"] = nil
            return .object(o)
        }
    }

    @Test func pluggedCPUsAppearInPlugOrderWithTheirSlotsProperties() throws {
        let vm = try CPUVM("machine: pc, memory: {size: 1G, slots: 4, maxmem: 4G}, smp: {cpus: 1, cores: 4, maxcpus: 4}")
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 2, "thread-id": 0, "id": "c2"]) == .object([:]))
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 1, "thread-id": 0]) == .object([:]))
        let props: (Int64) -> JSONValue = { ["core-id": .int($0), "thread-id": 0, "node-id": 0, "socket-id": 0] }
        #expect(entries(vm) == [
            ["props": props(0), "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"],
            ["props": props(2), "qom-path": "/machine/peripheral/c2", "cpu-index": 2, "target": "x86_64"],
            ["props": props(1), "qom-path": "/machine/peripheral-anon/device[0]", "cpu-index": 1, "target": "x86_64"],
        ])
        let threads = (vm.ok("query-cpus-fast")?.arrayValue ?? []).compactMap { $0["thread-id"]?.int64Value }
        #expect(Set(threads).count == 3)
    }

    @Test func anEjectedCPUIsGone() throws {
        let vm = try CPUVM()
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0]) == .object([:]))
        #expect(entries(vm).count == 2)
        #expect(vm.ok("device_del", ["id": "c1"]) == .object([:]))
        #expect(entries(vm).count == 2, "the guest has not ejected it yet")
        vm.fleet.advance(by: 100)
        #expect(entries(vm).map { $0["cpu-index"] } == [0])
    }

    @Test func bootCPUsMatchTheCoresReply() throws {
        let vm = try CPUVM("machine: pc, smp: {cpus: 3, cores: 4, maxcpus: 4}")
        #expect(entries(vm).map { $0["qom-path"] } == ["/machine/unattached/device[0]", "/machine/unattached/device[2]", "/machine/unattached/device[3]"])
        #expect(entries(vm).map { $0["props"]?["core-id"] } == [0, 1, 2])
    }
}
