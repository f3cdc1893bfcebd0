import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// `set-action`: what guest shutdowns, reboots and panics do, with QEMU
/// 7.2's events in QEMU's order (checked against QEMU with a pvpanic device
/// and `-action`).
struct LifecycleActionTests {
    let fleet: TestFleet
    let client: TestClient

    /// A running VM without `-no-shutdown`, as QEMU starts by default.
    init() throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, no-shutdown: false}]")
        client = fleet.negotiatedClient(to: "vm0")
        _ = client.drain()
    }

    private func status() -> JSONValue? { client.call("query-status")?["return"]?["status"] }
    private func events() -> [JSONValue] { client.takeEvents().map { ["event": $0["event"] ?? .null, "data": $0["data"] ?? .null] } }
    private func guest(_ action: String) -> JSONValue? { fleet.guestAction(vm: "vm0", plugin: "guest", action: action) }

    @Test func aGuestPanicWithTheDefaultActionPowersTheVMOff() {
        #expect(guest("panic")?["return"] == .object([:]))
        #expect(events() == [
            ["event": "GUEST_PANICKED", "data": ["action": "poweroff"]],
            ["event": "STOP", "data": .null],
            ["event": "SHUTDOWN", "data": ["guest": true, "reason": "guest-panic"]],
        ])
        #expect(fleet.vm("vm0") == nil)
    }

    @Test func panicPauseStopsInGuestPanicked() {
        #expect(client.call("set-action", ["panic": "pause"])?["return"] == .object([:]))
        _ = guest("panic")
        #expect(events() == [["event": "GUEST_PANICKED", "data": ["action": "pause"]], ["event": "STOP", "data": .null]])
        #expect(status() == "guest-panicked")
        #expect(client.call("cont")?["error"]?["desc"] == "Resetting the Virtual Machine is required")
        #expect(guest("panic")?["error"] != nil)
    }

    @Test func panicNoneOnlyTellsTheClients() {
        _ = client.call("set-action", ["panic": "none"])
        _ = guest("panic")
        #expect(events() == [["event": "GUEST_PANICKED", "data": ["action": "run"]]])
        #expect(status() == "running")
    }

    @Test func shutdownPauseKeepsThePoweredOffVM() {
        _ = client.call("set-action", ["shutdown": "pause"])
        _ = guest("poweroff")
        #expect(events() == [["event": "SHUTDOWN", "data": ["guest": true, "reason": "guest-shutdown"]], ["event": "STOP", "data": .null]])
        #expect(status() == "shutdown")
        // A panic with shutdown=pause pauses instead (QEMU's rule).
        _ = client.call("system_reset")
        _ = client.call("cont")
        _ = client.takeEvents()
        _ = guest("panic")
        #expect(events().first == ["event": "GUEST_PANICKED", "data": ["action": "pause"]])
    }

    @Test func rebootShutdownMakesEveryResetAShutdown() {
        _ = client.call("set-action", ["reboot": "shutdown", "shutdown": "pause"])
        _ = guest("reboot")
        #expect(events() == [["event": "SHUTDOWN", "data": ["guest": true, "reason": "guest-reset"]], ["event": "STOP", "data": .null]])
        #expect(status() == "shutdown")
        // system_reset too, as with -no-reboot.
        _ = client.call("system_reset")
        #expect(events() == [["event": "SHUTDOWN", "data": ["guest": false, "reason": "host-qmp-system-reset"]]])
        _ = client.call("set-action", ["reboot": "reset"])
        _ = client.call("system_reset")
        #expect(events().map { $0["event"] } == ["RESET"])
        #expect(status() == "prelaunch")
    }

    @Test func aGuestRebootResets() {
        _ = guest("reboot")
        #expect(events() == [["event": "RESET", "data": ["guest": true, "reason": "guest-reset"]]])
        #expect(status() == "running")
    }

    @Test func valuesAreCheckedAsQEMUChecksThem() {
        #expect(client.call("set-action", ["shutdown": "bogus"])?["error"]?["desc"] == "Parameter 'shutdown' does not accept value 'bogus'")
        #expect(client.call("set-action", [:])?["return"] == .object([:]))
        #expect(client.call("watchdog-set-action", ["action": "inject-nmi"])?["return"] == .object([:]))
        #expect(client.call("watchdog-set-action", [:])?["error"]?["desc"] == "Parameter 'action' is missing")
    }

    @Test func noRebootInTheConfigIsTheRebootActionShutdown() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: vm1, no-reboot: true}]")
        let client = fleet.negotiatedClient(to: "vm1")
        _ = client.drain()
        _ = client.call("system_reset")
        #expect(client.takeEvents().map { $0["event"] } == ["SHUTDOWN", "STOP"])
    }
}
