import QMPWire
import Testing

/// query-hotpluggable-cpus, in QEMU 7.2's and the seed's shapes.
@Suite struct HotpluggableCPUTests {
    /// The seed's pc example (`-smp 1,maxcpus=2`, which QEMU 2.x laid out
    /// as two sockets; 7.2 would use two cores, so the VM says sockets: 2).
    @Test func seedPCExample() throws {
        let vm = try CPUVM("machine: pc, smp: {cpus: 1, sockets: 2, maxcpus: 2}")
        #expect(vm.ok("query-hotpluggable-cpus") == [
            ["type": "qemu64-x86_64-cpu", "vcpus-count": 1, "props": ["core-id": 0, "socket-id": 1, "thread-id": 0]],
            ["qom-path": "/machine/unattached/device[0]", "type": "qemu64-x86_64-cpu", "vcpus-count": 1,
             "props": ["core-id": 0, "socket-id": 0, "thread-id": 0]],
        ])
    }

    /// The seed's pseries example (`-smp 2,cores=2,maxcpus=4 -cpu POWER8`)
    /// shows core-id 8 with vcpus-count 1, which no topology gives (core-id
    /// counts threads): here its shape with one-thread cores, then core-id
    /// 8 as eight-thread cores give it.
    @Test func seedPseriesShape() throws {
        let vm = try CPUVM("machine: pseries, arch: ppc64, smp: {cpus: 2, cores: 4, maxcpus: 4}", plugin: "{cpu-model: POWER8}")
        #expect(vm.ok("query-hotpluggable-cpus") == [
            ["props": ["core-id": 3], "type": "POWER8-spapr-cpu-core", "vcpus-count": 1],
            ["props": ["core-id": 2], "type": "POWER8-spapr-cpu-core", "vcpus-count": 1],
            ["props": ["core-id": 1], "type": "POWER8-spapr-cpu-core", "vcpus-count": 1, "qom-path": "/machine/unattached/device[1]"],
            ["props": ["core-id": 0], "type": "POWER8-spapr-cpu-core", "vcpus-count": 1, "qom-path": "/machine/unattached/device[0]"],
        ])
        let smt = try CPUVM("machine: pseries, arch: ppc64, smp: {cpus: 8, threads: 8, cores: 2, maxcpus: 16}", plugin: "{cpu-model: POWER8}")
        #expect(smt.cpus().map { $0["props"] } == [["core-id": 8], ["core-id": 0]])
        #expect(smt.cpus().map { $0["vcpus-count"] } == [8, 8])
    }

    /// QEMU 7.2 `-m 1G,slots=4,maxmem=4G -smp 1,maxcpus=4`: memory hot-plug
    /// turns NUMA on, so every CPU has node-id 0.
    @Test func qemu72PCWithMemorySlots() throws {
        let vm = try CPUVM("machine: pc, memory: {size: 1G, slots: 4, maxmem: 4G}, smp: {cpus: 1, cores: 4, maxcpus: 4}")
        let cpus = vm.cpus()
        #expect(cpus.count == 4)
        #expect(cpus.first == ["props": ["node-id": 0, "socket-id": 0, "core-id": 3, "thread-id": 0], "vcpus-count": 1, "type": "qemu64-x86_64-cpu"])
        #expect(cpus.last?["qom-path"] == "/machine/unattached/device[0]")
    }

    @Test func bootCPUPaths() throws {
        let vm = try CPUVM("machine: q35, smp: {cpus: 3, sockets: 2, cores: 2, threads: 1, maxcpus: 4}")
        #expect(vm.cpus().map { $0["qom-path"] } == [nil, "/machine/unattached/device[3]", "/machine/unattached/device[2]", "/machine/unattached/device[0]"])
        #expect(vm.cpus().map { $0["props"]?["socket-id"] } == [1, 1, 0, 0])
    }

    @Test func boardsWithoutCPUHotplug() throws {
        let arm = try CPUVM("machine: virt, arch: aarch64, smp: {cpus: 1, cores: 2, maxcpus: 2}")
        #expect(arm.error("query-hotpluggable-cpus") == ("GenericError", "The feature 'query-hotpluggable-cpus' is not enabled"))
        #expect(arm.error("device_add", ["driver": "cortex-a15-arm-cpu", "id": "c1", "core-id": 1])
                == ("GenericError", "Device 'cortex-a15-arm-cpu' can not be hotplugged on this machine"))
        #expect(arm.error("cpu-add", ["id": 1]) == ("GenericError", "Not supported"))
        let none = try CPUVM("machine: none")
        #expect(none.error("query-hotpluggable-cpus") == ("GenericError", "The feature 'query-hotpluggable-cpus' is not enabled"))
    }

    @Test func unknownModelIsAConfigError() {
        #expect(throws: (any Error).self) { try CPUVM(plugin: "{cpu-model: pentium9000}") }
    }
}
