import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// COLO and Xen replication on a VM outside a COLO pair (QEMU 7.2's answers).
@Suite struct COLOTests {
    @Test func statusAndReplication() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: {colo: {}}}]")
        let client = fleet.negotiatedClient(to: "vm0")
        #expect(client.call("query-colo-status")?["return"] == ["mode": "none", "last-mode": "none", "reason": "none"])
        #expect(client.call("query-xen-replication-status")?["return"] == ["error": false])
        #expect(client.call("xen-colo-do-checkpoint")?["return"] == [:])
        #expect(client.call("xen-set-replication", ["enable": true, "primary": true, "failover": true])?["error"]?["desc"]
                == "Parameter 'failover' is only for stopping replication")
        #expect(client.call("xen-set-replication", ["enable": false, "primary": true])?["return"] == [:])
    }

    /// The saved state is a migration stream the migration plugin loads.
    @Test func saveThenLoadDevicesState() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("colo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: {colo: {}, migration: {}}}]")
        let client = fleet.negotiatedClient(to: "vm0")
        #expect(client.call("xen-save-devices-state", ["filename": .string(dir + "/s")])?["return"] == [:])
        #expect(FileManager.default.contents(atPath: dir + "/s")?.prefix(4) == Data("QEVM".utf8))
        #expect(client.call("xen-load-devices-state", ["filename": .string(dir + "/s")])?["return"] == [:])
        #expect(client.call("xen-save-devices-state", ["filename": .string(dir + "/no/such")])?["error"]?["desc"]?.stringValue
                == "Unable to open \(dir)/no/such: No such file or directory")
    }
}
