import QMPWire
import Testing

/// device_add/device_del of CPUs, cpu and cpu-add.
@Suite struct CPUDeviceTests {
    @Test func deviceAddFillsAPosition() throws {
        let vm = try CPUVM()
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0]) == .object([:]))
        #expect(vm.cpus()[2] == ["props": ["socket-id": 0, "core-id": 1, "thread-id": 0], "vcpus-count": 1,
                                 "qom-path": "/machine/peripheral/c1", "type": "qemu64-x86_64-cpu"])
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 3, "thread-id": 0]) == .object([:]))
        #expect(vm.cpus()[0]["qom-path"] == "/machine/peripheral-anon/device[0]")
        #expect(vm.ok("cpu", ["index": 3]) == .object([:]))
        #expect(vm.error("cpu", ["index": 2]) == ("GenericError", "Invalid parameter 'index'"))
    }

    @Test func deviceAddErrorsLeaveStateAlone() throws {
        let vm = try CPUVM("machine: pc, smp: {cpus: 2, cores: 4, maxcpus: 4}")
        let before = vm.cpus()
        func add(_ props: JSONObject, driver: String = "qemu64-x86_64-cpu") -> (String?, String?) {
            var args: JSONObject = ["driver": .string(driver), "id": "c1"]
            for (k, v) in props { args[k] = v }
            return vm.error("device_add", args)
        }
        #expect(add(["socket-id": 0, "core-id": 1, "thread-id": 0]) == ("GenericError", "CPU[1] with APIC ID 1 exists"))
        #expect(add(["socket-id": 0, "core-id": 9, "thread-id": 0]) == ("GenericError", "Invalid CPU core-id: 9 must be in range 0:3"))
        #expect(add(["core-id": 2]) == ("GenericError", "CPU socket-id is not set"))
        #expect(add(["socket-id": 1, "core-id": 2, "thread-id": 0]) == ("GenericError", "Invalid CPU socket-id: 1 must be in range 0:0"))
        #expect(add(["socket-id": 0, "core-id": 2]) == ("GenericError", "CPU thread-id is not set"))
        #expect(add(["socket-id": 0, "core-id": 2, "thread-id": 0], driver: "max-x86_64-cpu")
                == ("GenericError", "Invalid CPU type, expected cpu type: 'qemu64-x86_64-cpu'"))
        #expect(add(["core-id": 8], driver: "POWER8-spapr-cpu-core") == ("GenericError", "'POWER8-spapr-cpu-core' is not a valid device model name"))
        #expect(add(["socket-id": 0, "core-id": 2, "thread-id": 0, "bogus": 1]) == ("GenericError", "Property 'qemu64-x86_64-cpu.bogus' not found"))
        #expect(vm.cpus() == before)
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 2, "thread-id": 0]) == .object([:]))
        #expect(add(["socket-id": 0, "core-id": 3, "thread-id": 0]) == ("GenericError", "Duplicate device ID 'c1'"))
        #expect(add(["socket-id": 0, "core-id": 2, "thread-id": 0]).1 == "Duplicate device ID 'c1'")
        #expect(vm.error("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c2", "socket-id": 0, "core-id": 2, "thread-id": 0])
                == ("GenericError", "CPU[2] with APIC ID 2 exists"))
    }

    @Test func apicIDsSkipUnusedBits() throws {
        let vm = try CPUVM("machine: pc, smp: {cpus: 1, sockets: 2, cores: 3, maxcpus: 6}")
        #expect(vm.error("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 0, "thread-id": 0])
                == ("GenericError", "CPU[0] with APIC ID 0 exists"))
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 1, "core-id": 2, "thread-id": 0]) == .object([:]))
        #expect(vm.error("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c2", "socket-id": 1, "core-id": 2, "thread-id": 0])
                == ("GenericError", "CPU[5] with APIC ID 6 exists"))
    }

    /// QEMU 7.2 without a guest OS: the ACPI device is still in legacy CPU
    /// hot-plug mode and refuses CPU unplug.
    @Test func unplugBeforeTheGuestBootsFailsLikeQEMU() throws {
        let vm = try CPUVM("machine: pc, smp: {cpus: 1, cores: 4, maxcpus: 4}, start-paused: true")
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0]) == .object([:]))
        #expect(vm.error("device_del", ["id": "c1"])
                == ("GenericError", "acpi: device unplug request for not supported device type: qemu64-x86_64-cpu"))
        #expect(vm.cpus()[2]["qom-path"] == "/machine/peripheral/c1")
        // The boot CPU is no device_add device.
        #expect(vm.error("device_del", ["id": "/machine/unattached/device[0]"]).0 != nil)
    }

    @Test func bootedGuestEjectsAnUnpluggedCPU() throws {
        let vm = try CPUVM()
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0]) == .object([:]))
        _ = vm.eventNames()
        #expect(vm.ok("device_del", ["id": "c1"]) == .object([:]))
        #expect(vm.eventNames().isEmpty)
        vm.fleet.advance(by: 100)
        #expect(vm.client.takeEvents().map { $0["data"] } == [["device": "c1", "path": "/machine/peripheral/c1"]])
        #expect(vm.cpus()[2]["qom-path"] == nil)
        #expect(vm.ok("device_add", ["driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0]) == .object([:]))
    }

    @Test func pseriesCores() throws {
        let vm = try CPUVM("machine: pseries, arch: ppc64, smp: {cpus: 2, threads: 2, cores: 2, maxcpus: 4}", plugin: "{cpu-model: POWER9}")
        #expect(vm.error("device_add", ["driver": "POWER8-spapr-cpu-core", "id": "k", "core-id": 2]) == ("GenericError", "CPU core type should be POWER9-spapr-cpu-core"))
        #expect(vm.error("device_add", ["driver": "POWER9-spapr-cpu-core", "id": "k", "core-id": 3]) == ("GenericError", "invalid core id 3"))
        #expect(vm.error("device_add", ["driver": "POWER9-spapr-cpu-core", "id": "k", "core-id": 8]) == ("GenericError", "core id 8 out of range"))
        #expect(vm.error("device_add", ["driver": "POWER9-spapr-cpu-core", "id": "k", "core-id": 0]) == ("GenericError", "core 0 already populated"))
        #expect(vm.error("device_add", ["driver": "POWER9-spapr-cpu-core", "id": "k", "core-id": 2, "nr-threads": 1])
                == ("GenericError", "invalid nr-threads 1, must be 2"))
        #expect(vm.ok("device_add", ["driver": "POWER9-spapr-cpu-core", "id": "k", "core-id": 2]) == .object([:]))
        #expect(vm.cpus().first == ["props": ["core-id": 2], "type": "POWER9-spapr-cpu-core", "vcpus-count": 2, "qom-path": "/machine/peripheral/k"])
        #expect(vm.ok("cpu", ["index": 3]) == .object([:]))
        #expect(vm.error("cpu-add", ["id": 1]) == ("GenericError", "Not supported"))
        #expect(vm.ok("device_del", ["id": "k"]) == .object([:]))
        vm.fleet.advance(by: 100)
        #expect(vm.eventNames() == ["DEVICE_DELETED"])
    }

    @Test func cpuAddOfTheSeed() throws {
        let vm = try CPUVM()
        #expect(vm.ok("cpu-add", ["id": 2]) == .object([:]))
        #expect(vm.cpus()[1]["qom-path"] == "/machine/unattached/device[27]")
        #expect(vm.error("cpu-add", ["id": 2]) == ("GenericError", "CPU[2] with APIC ID 2 exists"))
        #expect(vm.error("cpu-add", ["id": -1]) == ("GenericError", "Invalid CPU id: -1"))
        #expect(vm.error("cpu-add", ["id": 4]) == ("GenericError", "Invalid CPU [socket: 1, core: 0, thread: 0] with APIC ID 4, valid index range 0:3"))
        #expect(vm.ok("cpu", ["index": 2]) == .object([:]))
        #expect(vm.ok("cpu", ["index": 0]) == .object([:]))
        #expect(vm.error("cpu", ["index": 9]) == ("GenericError", "Invalid parameter 'index'"))
    }
}
