import QMPFleetTesting
import QMPWire
import Testing

/// query-gic-capabilities on Arm VMs; x86 VMs refuse the plugin.
@Suite struct GICTests {
    func client(_ yaml: String) throws -> (TestFleet, TestClient) {
        let fleet = try TestFleet(yaml: yaml)
        let client = fleet.negotiatedClient(to: "vm0")
        return (fleet, client)
    }

    /// QEMU 7.2 `qemu-system-aarch64 -machine virt` (TCG).
    @Test func tcgDefaultMatchesQEMU() throws {
        let (fleet, client) = try client("vms: [{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {}}}]")
        defer { withExtendedLifetime(fleet) {} }
        #expect(client.call("query-gic-capabilities")?["return"] == [
            ["version": 3, "emulated": true, "kernel": false],
            ["version": 2, "emulated": true, "kernel": false],
        ])
        #expect(client.call("query-gic-capabilities", ["x": 1])?["error"]?["desc"] == "Parameter 'x' is unexpected")
    }

    /// The seed's example, from config.
    @Test func seedExampleFromConfig() throws {
        let (fleet, client) = try client("""
            vms: [{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {capabilities: [
              {version: 2, emulated: true, kernel: false}, {version: 3, emulated: false, kernel: true}]}}}]
            """)
        defer { withExtendedLifetime(fleet) {} }
        #expect(client.call("query-gic-capabilities")?["return"] == [
            ["version": 2, "emulated": true, "kernel": false],
            ["version": 3, "emulated": false, "kernel": true],
        ])
    }

    @Test func kvmPutsV3InTheKernel() throws {
        let (fleet, client) = try client("vms: [{name: vm0, arch: aarch64, machine: virt, kvm: true, plugins: {gic: {}}}]")
        defer { withExtendedLifetime(fleet) {} }
        #expect(client.call("query-gic-capabilities")?["return"]?.arrayValue?.first == ["version": 3, "emulated": true, "kernel": true])
    }

    @Test func x86VMRefusesThePlugin() {
        #expect(throws: (any Error).self) { try TestFleet(yaml: "vms: [{name: vm0, machine: pc, plugins: {gic: {}}}]") }
    }

    /// Without the plugin, an x86 VM answers as QEMU for x86 does.
    @Test func x86WithoutPluginHasNoCommand() throws {
        let (fleet, client) = try client("vms: [{name: vm0, machine: pc}]")
        defer { withExtendedLifetime(fleet) {} }
        let error = client.call("query-gic-capabilities")?["error"]
        #expect(error?["class"] == "CommandNotFound")
        #expect(error?["desc"] == "The command query-gic-capabilities has not been found")
    }

    @Test func badConfigIsRefused() {
        #expect(throws: (any Error).self) {
            try TestFleet(yaml: "vms: [{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {capabilities: [{version: 7}]}}}]")
        }
        #expect(throws: (any Error).self) {
            try TestFleet(yaml: "vms: [{name: vm0, arch: aarch64, machine: virt, plugins: {gic: {versions: []}}}]")
        }
    }
}
