import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// A VM's `cpu` (`-cpu`) is the type of its boot vCPUs, with the property
/// values QEMU 7.2 reports for that model: libvirt reads them to check the
/// CPU it asked for.
struct BootCPUModelTests {
    /// The fleet (kept alive by the caller), a client, and the boot vCPU's QOM path.
    func bootCPU(_ yaml: String) throws -> (TestFleet, TestClient, String) {
        let fleet = try TestFleet(yaml: yaml)
        let client = fleet.negotiatedClient(to: "vm0")
        let path = try #require(client.call("query-cpus-fast")?["return"]?.arrayValue?.first?["qom-path"]?.stringValue)
        return (fleet, client, path)
    }

    @Test func theModelNamesTheTypeAndItsValues() throws {
        let (fleet, client, path) = try bootCPU("vms: [{name: vm0, machine: pc, cpu: Haswell}]")
        #expect(fleet.vm("vm0") != nil)
        #expect(client.call("qom-get", ["path": .string(path), "property": "type"])?["return"] == "Haswell-x86_64-cpu")
        let model = client.call("qom-get", ["path": .string(path), "property": "model-id"])?["return"]?.stringValue ?? ""
        #expect(model.contains("Haswell"))
        #expect(client.call("qom-set", ["path": .string(path), "property": "type", "value": "x"])?["error"]?["desc"]
                == "Property 'Haswell-x86_64-cpu.type' is not writable")
    }

    @Test func withoutAModelTheBootCPUIsQEMUsDefault() throws {
        let (fleet, client, path) = try bootCPU("vms: [{name: vm0, machine: pc}]")
        #expect(fleet.vm("vm0") != nil)
        #expect(client.call("qom-get", ["path": .string(path), "property": "type"])?["return"] == "qemu64-x86_64-cpu")
    }

    @Test func hotPluggedCPUsAreOfTheSameModel() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, cpu: Haswell, smp: {cpus: 1, cores: 2, maxcpus: 2}, plugins: {cpu-hotplug: {}}}]")
        let client = fleet.negotiatedClient(to: "vm0")
        let types = client.call("query-hotpluggable-cpus")?["return"]?.arrayValue?.compactMap { $0["type"]?.stringValue }
        #expect(types == ["Haswell-x86_64-cpu", "Haswell-x86_64-cpu"])
    }
}
