import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// The probe queries served from QEMU 7.2's recorded replies, and which
/// device types a VM offers depending on its plugins.
struct ProbeCommandTests {
    let fleet: TestFleet

    init() throws {
        fleet = try TestFleet(yaml: """
            vms:
              - {name: bare, plugins: {tpm: {}}}
              - {name: nic, plugins: {tpm: {}, net: {}}}
            """)
    }

    private func client(_ name: String) -> TestClient {
        let client = fleet.connect(to: name)
        client.negotiate()
        _ = client.drain()
        return client
    }

    @Test func deviceListPropertiesOfAPluginDeviceNeedsThePlugin() {
        let bare = client("bare"), nic = client("nic")
        let asked: JSONObject = ["typename": "e1000"]
        #expect(bare.call("device-list-properties", asked)?["error"] == ["class": "DeviceNotFound", "desc": "Device 'e1000' not found"])
        let properties = nic.call("device-list-properties", asked)?["return"]?.arrayValue ?? []
        #expect(properties.contains { $0["name"] == "mac" })
        #expect(bare.call("qom-list-properties", asked)?["error"]?["desc"] == "Class 'e1000' not found")
        // qom-list-properties is the class's list: it starts with QOM's own.
        #expect(nic.call("qom-list-properties", asked)?["return"]?.arrayValue?.first?["name"] == "type")
        let types = { (c: TestClient) in (c.call("qom-list-types", ["implements": "pci-device"])?["return"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
        #expect(!types(bare).contains("e1000"))
        #expect(types(nic).contains("e1000"))
        #expect(types(bare).contains("VGA"))
    }

    @Test func devicesNoPluginSimulatesAreDescribedAsQEMUDoes() {
        let bare = client("bare")
        // libvirt's probe asks these on every x86 emulator.
        for name in ["i440FX-pcihost", "q35-pcihost", "PIIX4_PM", "virtio-balloon-pci", "nec-usb-xhci"] {
            #expect((bare.call("device-list-properties", ["typename": .string(name)])?["return"]?.arrayValue?.count ?? 0) > 0, "\(name)")
        }
        #expect(bare.call("device-list-properties", ["typename": "virtio-blk-ccw"])?["error"]?["class"] == "DeviceNotFound")
        #expect(bare.call("device-list-properties", ["typename": "device"])?["error"]?["desc"]
            == "Parameter 'typename' expects a non-abstract device type")
    }

    @Test func cpuModelExpansionChecksPropsAsQEMU() {
        let bare = client("bare")
        func expand(_ model: JSONObject) -> JSONValue? {
            bare.call("query-cpu-model-expansion", ["type": "static", "model": .object(model)])
        }
        #expect(expand(["name": "nosuch"])?["error"]?["desc"] == "CPU model 'nosuch' not found")
        #expect(expand(["name": "Skylake-Client", "props": ["nosuch": true]])?["error"]?["desc"]
            == "Property 'Skylake-Client-x86_64-cpu.nosuch' not found")
        #expect(expand(["name": "max", "props": ["sse": "on"]])?["error"]?["desc"]
            == "Invalid parameter type for 'sse', expected: boolean")
        #expect(expand(["name": "max", "props": ["family": "x"]])?["error"]?["desc"]
            == "Invalid parameter type for 'family', expected: integer")
        let sseOff = expand(["name": "max", "props": ["sse": false]])?["return"]?["model"]
        #expect(sseOff?["name"] == "base")
        #expect(sseOff?["props"]?["sse"] == false)
    }

    @Test func queryMachinesIsQEMU72s() {
        let machines = client("bare").call("query-machines")?["return"]?.arrayValue ?? []
        #expect(machines.count == 59)
        let pc = machines.first { $0["name"] == "pc-i440fx-7.2" }
        #expect(pc?["alias"] == "pc")
        #expect(pc?["is-default"] == true)
        #expect(pc?["numa-mem-supported"] == false)
    }

    @Test func secureGuestCapabilitiesFailAsOnTCG() {
        let bare = client("bare")
        #expect(bare.call("query-sev-capabilities")?["error"] == ["class": "GenericError", "desc": "KVM not enabled"])
        #expect(bare.call("query-sgx-capabilities")?["error"] == ["class": "GenericError", "desc": "SGX is not enabled in KVM"])
    }
}
