import QMPFleetTesting
import QMPWire
import Testing

/// trace-event-get-state / -set-state compared with QEMU 7.2 (-machine pc, -smp 1).
@Suite struct TraceTests {
    let fleet: TestFleet
    let client: TestClient

    init(smp: Int = 1, trace: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, smp: {cpus: \(smp), maxcpus: \(smp), sockets: 1, cores: \(smp), threads: 1}, plugins: {trace: \(trace)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject) -> JSONValue? { client.result(command, args) }
    func error(_ command: String, _ args: JSONObject) -> (String?, String?) { client.errorPair(command, args) }

    @Test func catalogueHasQEMUsEvents() throws {
        let all = ok("trace-event-get-state", ["name": "*"])?.arrayValue ?? []
        #expect(all.count == 4246)
        #expect(all.first?["name"] == "module_lookup_object_type")
        #expect(all.filter { $0["vcpu"] == true }.count == 5)
        #expect(all.filter { $0["state"] == "unavailable" }.map { $0["name"] } == ["qxl_io_write_vga", "qxl_interface_set_mm_time"])
    }

    @Test func seedExampleAndSetState() throws {
        #expect(ok("trace-event-get-state", ["name": "qemu_memalign"]) == [["name": "qemu_memalign", "state": "disabled", "vcpu": false]])
        #expect(ok("trace-event-set-state", ["name": "qemu_memalign", "enable": true]) == [:])
        #expect(ok("trace-event-get-state", ["name": "qemu_mem*"]) == [["name": "qemu_memalign", "state": "enabled", "vcpu": false]])
        #expect(ok("trace-event-set-state", ["name": "qemu_memalign", "enable": false]) == [:])
        #expect(ok("trace-event-get-state", ["name": "qemu_memalign"])?.arrayValue?.first?["state"] == "disabled")
    }

    @Test func patternsOnlyKnowStar() throws {
        #expect(ok("trace-event-get-state", ["name": "no_such*"]) == [])
        #expect(error("trace-event-get-state", ["name": "qemu_?emalign"]) == ("GenericError", "unknown event \"qemu_?emalign\""))
        let qxl = ok("trace-event-get-state", ["name": "qxl_*_vga*"])?.arrayValue ?? []
        #expect(qxl.allSatisfy { $0["name"]?.stringValue?.hasPrefix("qxl_") == true })
        #expect(qxl.contains { $0["name"] == "qxl_io_write_vga" })
    }

    @Test func errorsAsQEMU() throws {
        #expect(error("trace-event-get-state", ["name": "no_such_event"]) == ("GenericError", "unknown event \"no_such_event\""))
        #expect(error("trace-event-set-state", ["name": "no_such_event", "enable": true]) == ("GenericError", "unknown event \"no_such_event\""))
        #expect(error("trace-event-get-state", ["name": "qemu_memalign", "vcpu": 0]) == ("GenericError", "event \"qemu_memalign\" is not vCPU-specific"))
        #expect(error("trace-event-get-state", ["name": "qemu_memalign", "vcpu": 5]) == ("GenericError", "invalid vCPU index 5"))
        #expect(error("trace-event-get-state", ["name": "no_such", "vcpu": 5]) == ("GenericError", "invalid vCPU index 5"))
        #expect(error("trace-event-get-state", ["name": "qemu_memalign", "vcpu": -1]) == ("GenericError", "invalid vCPU index 4294967295"))
        #expect(error("trace-event-set-state", ["name": "qemu_memalign", "enable": "true"]) == ("GenericError", "Invalid parameter type for 'enable', expected: boolean"))
    }

    @Test func unavailableEvents() throws {
        #expect(error("trace-event-set-state", ["name": "qxl_io_write_vga", "enable": true]) == ("GenericError", "event \"qxl_io_write_vga\" is disabled"))
        #expect(ok("trace-event-set-state", ["name": "qxl_io_write_vga", "enable": true, "ignore-unavailable": true]) == [:])
        // A pattern fails as a whole before anything changes.
        #expect(error("trace-event-set-state", ["name": "qxl_*", "enable": true]) == ("GenericError", "event \"qxl_interface_set_mm_time\" is disabled"))
        #expect(ok("trace-event-get-state", ["name": "qxl_io_write"])?.arrayValue?.first?["state"] == "disabled")
        #expect(ok("trace-event-set-state", ["name": "qxl_*", "enable": true, "ignore-unavailable": true]) == [:])
        #expect(ok("trace-event-get-state", ["name": "qxl_io_write*"]) == [
            ["name": "qxl_io_write", "state": "enabled", "vcpu": false],
            ["name": "qxl_io_write_vga", "state": "unavailable", "vcpu": false],
        ])
    }

    @Test func perVCPUEvents() throws {
        let vm = try TraceTests(smp: 2)
        #expect(vm.ok("trace-event-get-state", ["name": "*", "vcpu": 0])?.arrayValue?.count == 5)
        #expect(vm.ok("trace-event-set-state", ["name": "guest_cpu_enter", "enable": true, "vcpu": 1]) == [:])
        #expect(vm.ok("trace-event-get-state", ["name": "guest_cpu_enter", "vcpu": 0]) == [["name": "guest_cpu_enter", "state": "disabled", "vcpu": true]])
        #expect(vm.ok("trace-event-get-state", ["name": "guest_cpu_enter", "vcpu": 1])?.arrayValue?.first?["state"] == "enabled")
        #expect(vm.ok("trace-event-get-state", ["name": "guest_cpu_enter"])?.arrayValue?.first?["state"] == "enabled")
        #expect(vm.error("trace-event-get-state", ["name": "guest_cpu_enter", "vcpu": 2]) == ("GenericError", "invalid vCPU index 2"))
    }

    @Test func statesArePerVMAndConfigEnables() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, plugins: {trace: {enable: [\"qemu_mem*\"]}}}, {name: b, plugins: {trace: {}}}]")
        let a = fleet.negotiatedClient(to: "a"), b = fleet.negotiatedClient(to: "b")
        #expect(a.call("trace-event-get-state", ["name": "qemu_memalign"])?["return"]?.arrayValue?.first?["state"] == "enabled")
        #expect(b.call("trace-event-get-state", ["name": "qemu_memalign"])?["return"]?.arrayValue?.first?["state"] == "disabled")
        #expect(throws: (any Error).self) { try TestFleet(yaml: "vms: [{name: a, plugins: {trace: {enable: [nope]}}}]") }
    }
}
