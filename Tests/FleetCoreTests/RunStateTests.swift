import FleetConfigFile
import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// QEMU 7.2's run-state transitions and their events.
struct RunStateTests {
    let fleet: TestFleet
    let client: TestClient

    init() throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, start-paused: true, powerdown-delay-ms: 300}]")
        client = fleet.connect(to: "vm0")
        client.negotiate()
        _ = client.drain()
    }

    private func status() -> JSONValue? { client.call("query-status")?["return"]?["status"] }

    private func events() -> [JSONValue?] { client.takeEvents().map { $0["event"] } }

    @Test func prelaunchStopIsSilentContResumes() {
        #expect(status() == "prelaunch")
        #expect(client.call("stop")?["return"] == .object([:]))
        #expect(events().isEmpty)
        #expect(client.call("cont")?["return"] == .object([:]))
        #expect(events() == ["RESUME"])
        #expect(client.call("cont")?["return"] == .object([:]))
        #expect(events().isEmpty)
        #expect(status() == "running")
    }

    @Test func resetWhilePausedGoesToPrelaunch() {
        _ = client.call("cont")
        _ = client.call("stop")
        _ = client.takeEvents()
        _ = client.call("system_reset")
        let reset = client.takeEvents()
        #expect(reset.map { $0["event"] } == ["RESET"])
        #expect(reset.first?["data"] == ["guest": false, "reason": "host-qmp-system-reset"])
        #expect(status() == "prelaunch")
    }

    @Test func powerdownThenSimulatedGuestShutsDown() {
        _ = client.call("cont")
        _ = client.takeEvents()
        _ = client.call("system_powerdown")
        #expect(events() == ["POWERDOWN"])
        fleet.advance(by: 299)
        #expect(events().isEmpty)
        fleet.advance(by: 1)
        let after = client.takeEvents()
        #expect(after.map { $0["event"] } == ["SHUTDOWN", "STOP"])
        #expect(after.first?["data"] == ["guest": true, "reason": "guest-shutdown"])
        #expect(status() == "shutdown")
        #expect(client.call("cont")?["error"]?["desc"] == "Resetting the Virtual Machine is required")
        _ = client.call("system_reset")
        #expect(status() == "prelaunch")
    }

    @Test func wakeupNeedsSuspend() {
        #expect(client.call("system_wakeup")?["error"]?["desc"] == "Unable to wake up: guest is not in suspended state")
    }

    @Test func quitEndsOnlyThatVM() {
        _ = client.call("quit")
        #expect(client.takeEvents().first?["data"] == ["guest": false, "reason": "host-qmp-quit"])
        #expect(fleet.vm("vm0") == nil)
        #expect(client.isClosed)
    }

    @Test func humanMonitorInfoStatus() {
        #expect(client.call("human-monitor-command", ["command-line": "info status"])?["return"] == "VM status: paused (prelaunch)\r\n")
        _ = client.call("cont")
        #expect(client.call("human-monitor-command", ["command-line": "info status"])?["return"] == "VM status: running\r\n")
        _ = client.call("stop")
        #expect(client.call("human-monitor-command", ["command-line": "info status"])?["return"] == "VM status: paused\r\n")
        #expect(client.call("human-monitor-command", ["command-line": "info name"])?["return"] == "vm0\r\n")
        #expect(client.call("human-monitor-command", ["command-line": "frob"])?["return"] == "unknown command: 'frob'\r\n")
    }

    @Test func introspectionListsCoreCommands() throws {
        let commands = try #require(client.call("query-commands")?["return"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        for name in ["qmp_capabilities", "query-status", "stop", "cont", "quit", "device_add", "query-qmp-schema"] {
            #expect(commands.contains(name))
        }
        #expect(!commands.contains("block_resize"))
    }
}

/// SIGHUP's reload: added VMs start, removed ones stop, the rest keep state and clients.
struct ReloadTests {
    @Test func reloadKeepsUnchangedVMs() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: keep}, {name: drop}]")
        let client = fleet.connect(to: "keep")
        client.negotiate()
        _ = client.call("stop")
        let dropped = fleet.connect(to: "drop")
        dropped.negotiate()
        let fresh = try FleetConfig.parse(yaml: "vms: [{name: keep}, {name: new}]", file: "reload.yaml")
        let change = fleet.router.reload(vms: fresh.vms)
        #expect(change.added == ["new"])
        #expect(change.removed == ["drop"])
        #expect(fleet.vm("drop") == nil)
        #expect(dropped.isClosed)
        #expect(dropped.takeEvents().last?["data"]?["reason"] == "host-signal")
        #expect(client.call("query-status")?["return"]?["status"] == "paused")
        #expect(!client.isClosed)
        #expect(fleet.vm("new")?.runState == .running)
    }
}
