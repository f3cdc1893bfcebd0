import QMPFleetTesting
import QMPWire
import Testing

/// Record/replay as QEMU 7.2 answers it without `-icount rr=...`.
@Suite struct ReplayTests {
    @Test func noneModeAsQEMU() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: {replay: {}}}]")
        let client = fleet.negotiatedClient(to: "vm0")
        #expect(client.call("query-replay")?["return"] == ["mode": "none", "icount": 0])
        #expect(client.call("replay-break", ["icount": 220414])?["error"]?["desc"] == "setting the breakpoint is allowed only in play mode")
        #expect(client.call("replay-delete-break")?["error"]?["desc"] == "replay breakpoints are allowed only in play mode")
        #expect(client.call("replay-seek", ["icount": 1])?["error"]?["desc"] == "replay must be enabled to seek")
        #expect(client.call("replay-seek")?["error"]?["desc"] == "Parameter 'icount' is missing")
    }

    @Test func refusesSettings() {
        #expect(throws: (any Error).self) { try TestFleet(yaml: "vms: [{name: vm0, plugins: {replay: {mode: play}}}]") }
    }
}
