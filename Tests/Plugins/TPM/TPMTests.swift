import QMPFleetTesting
import QMPWire
import Testing

/// query-tpm, -models, -types and the frontend drivers, compared with QEMU 7.2.
@Suite struct TPMTests {
    struct VM {
        let client: TestClient
        init(_ yaml: String) throws {
            let fleet = try TestFleet(yaml: yaml)
            client = fleet.negotiatedClient(to: "vm0")
            fleetKeptAlive = fleet
        }
        let fleetKeptAlive: TestFleet
        func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }
        func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }
    }

    static func x86(_ tpm: String) -> String { "vms: [{name: vm0, machine: q35, plugins: {tpm: \(tpm)}}]" }

    @Test func modelsAndTypesAsQEMUAnswers() throws {
        let x86 = try VM(TPMTests.x86("{}"))
        #expect(x86.ok("query-tpm-models") == ["tpm-crb", "tpm-tis"])
        #expect(x86.ok("query-tpm-types") == ["passthrough", "emulator"])
        #expect(x86.ok("query-tpm") == [])
        let arm = try VM("vms: [{name: vm0, arch: aarch64, machine: virt, plugins: {tpm: {}}}]")
        #expect(arm.ok("query-tpm-models") == ["tpm-tis"])
    }

    /// QEMU 7.2 with `-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0` (swtpm behind it).
    @Test func emulatorBackendWithCRB() throws {
        let vm = try VM(TPMTests.x86("{backends: [{id: tpm0, type: emulator, chardev: chrtpm, model: tpm-crb}]}"))
        #expect(vm.ok("query-tpm") == [["id": "tpm0", "model": "tpm-crb", "options": ["type": "emulator", "data": ["chardev": "chrtpm"]]]])
    }

    /// The seed's example: a passthrough backend on tpm-tis.
    @Test func seedPassthroughExample() throws {
        let vm = try VM(TPMTests.x86("{backends: [{id: tpm0, type: passthrough, path: /dev/tpm0, cancel-path: /sys/class/misc/tpm0/device/cancel, model: tpm-tis}]}"))
        let reply = vm.client.call("query-tpm")
        #expect(reply?["return"] == [["model": "tpm-tis", "options": ["type": "passthrough", "data": ["cancel-path": "/sys/class/misc/tpm0/device/cancel", "path": "/dev/tpm0"]], "id": "tpm0"]])
    }

    @Test func backendWithoutFrontendIsNotListed() throws {
        let vm = try VM(TPMTests.x86("{backends: [{id: tpm0, type: passthrough}, {id: tpm1, type: emulator, chardev: c1, model: tpm-tis}]}"))
        #expect(vm.ok("query-tpm")?.arrayValue?.map { $0["id"] } == ["tpm1"])
        #expect(vm.ok("query-tpm")?.arrayValue?.first?["options"]?["data"] == ["chardev": "c1"])
    }

    @Test func frontendsCannotBeHotplugged() throws {
        let vm = try VM(TPMTests.x86("{backends: [{id: tpm0, type: emulator, chardev: c0}]}"))
        #expect(vm.error("device_add", ["driver": "tpm-tis", "id": "t0", "tpmdev": "tpm0"]) == ("GenericError", "Bus 'isa.0' does not support hotplugging"))
        #expect(vm.error("device_add", ["driver": "tpm-crb", "id": "t1"]) == ("GenericError", "Device 'tpm-crb' can not be hotplugged on this machine"))
        #expect(vm.error("device_add", ["driver": "tpm-tis-device", "id": "t2"]) == ("GenericError", "'tpm-tis-device' is not a valid device model name"))
        #expect(vm.ok("query-tpm") == [])
        let arm = try VM("vms: [{name: vm0, arch: aarch64, machine: virt, plugins: {tpm: {}}}]")
        #expect(arm.error("device_add", ["driver": "tpm-tis-device", "id": "t0"]) == ("GenericError", "Bus 'main-system-bus' does not support hotplugging"))
        #expect(arm.error("device_add", ["driver": "tpm-crb", "id": "t0"]) == ("GenericError", "'tpm-crb' is not a valid device model name"))
    }

    @Test func configErrorsUseQEMUTexts() {
        #expect(throws: (any Error).self) { try VM(TPMTests.x86("{backends: [{id: t0, type: emulator, chardev: c, model: tpm-tis}, {id: t1, type: emulator, chardev: c, model: tpm-crb}]}")) }
        #expect(throws: (any Error).self) { try VM(TPMTests.x86("{backends: [{id: t0, type: emulator}]}")) }
        #expect(throws: (any Error).self) { try VM(TPMTests.x86("{backends: [{id: t0, type: bogus}]}")) }
        #expect(throws: (any Error).self) { try VM(TPMTests.x86("{backends: [{id: t0, type: passthrough, model: tpm-tis-device}]}")) }
        #expect(throws: (any Error).self) { try VM(TPMTests.x86("{backends: [{id: t0, type: passthrough, chardev: x}]}")) }
    }

    @Test func unexpectedArgumentIsRefused() throws {
        let vm = try VM(TPMTests.x86("{}"))
        #expect(vm.error("query-tpm", ["x": 1]) == ("GenericError", "Parameter 'x' is unexpected"))
    }
}
