@testable import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// Faults as a VM's clients meet them, in-process under the virtual clock.
struct VMFaultsTests {
    private func fleet(_ faults: String = "") throws -> TestFleet {
        try TestFleet(yaml: "vms: [{name: vm0}, {name: vm1}]\n" + (faults.isEmpty ? "" : "faults:\n\(faults)"))
    }

    @Test func aVMWithoutFaultsHasNoFaultState() throws {
        let f = try fleet("  - {vm: vm1, action: disconnect}")
        #expect(f.vm("vm0")?.faults == nil)
        #expect(f.vm("vm1")?.faults != nil)
        let control = f.connectControl()
        control.negotiate()
        _ = control.call("fault-remove", ["id": "fault-0"])
        #expect(f.vm("vm1")?.faults == nil)  // the last one gone: back to one branch
    }

    @Test func anErrorFiresTheNextNCallsThenTheCommandRuns() throws {
        let f = try fleet("  - {vm: vm0, command: query-status, times: 2, action: error, error-class: DeviceNotActive, desc: down}")
        let client = f.negotiatedClient(to: "vm0")
        #expect(client.errorPair("query-status") == ("DeviceNotActive", "down"))
        #expect(client.result("query-name") == ["name": "vm0"])
        #expect(client.errorPair("query-status") == ("DeviceNotActive", "down"))
        #expect(client.result("query-status")?["status"] == "running")
        #expect(f.negotiatedClient(to: "vm1").result("query-status")?["status"] == "running")
    }

    @Test func badArgumentsGetTheSchemasErrorNotTheFault() throws {
        let f = try fleet("  - {action: error, desc: injected}")
        let client = f.negotiatedClient(to: "vm0")
        #expect(client.errorPair("query-status", ["bogus": 1]) == ("GenericError", "Parameter 'bogus' is unexpected"))
        #expect(client.errorPair("no-such-command").0 == "CommandNotFound")
        #expect(client.errorPair("query-status") == ("GenericError", "injected"))
    }

    @Test func aSeedGivesTheSameFiringsEveryTime() throws {
        func firings(seed: Int) throws -> [Bool] {
            let f = try fleet("  - {command: query-name, probability: 0.3, seed: \(seed), action: error, desc: flaky}")
            let client = f.negotiatedClient(to: "vm0")
            return (0..<200).map { _ in client.call("query-name")?["error"] != nil }
        }
        let first = try firings(seed: 1)
        #expect(try firings(seed: 1) == first)
        #expect(try firings(seed: 2) != first)
        #expect((40...80).contains(first.filter { $0 }.count))
    }

    @Test func aDelayedReplyWaitsOnTheClock() throws {
        let f = try fleet("  - {vm: vm0, command: query-status, action: delay, delay-ms: 250}")
        let client = f.negotiatedClient(to: "vm0")
        let id = client.execute("query-status")
        f.advance(by: 249)
        #expect(client.reply(id: id) == nil)
        f.advance(by: 1)
        #expect(client.reply(id: id)?["return"]?["status"] == "running")
    }

    @Test func aDroppedReplyLeavesTheSessionServing() throws {
        let f = try fleet("  - {vm: vm0, command: stop, times: 1, action: drop-reply}")
        let client = f.negotiatedClient(to: "vm0")
        let stop = client.execute("stop")
        #expect(client.result("query-status")?["status"] == "paused")  // it ran
        #expect(client.reply(id: stop) == nil)
        #expect(client.result("cont") == .object([:]))
    }

    @Test func disconnectClosesOnlyThatClient() throws {
        let f = try fleet("  - {vm: vm0, command: system_reset, action: disconnect}")
        let victim = f.negotiatedClient(to: "vm0")
        let other = f.negotiatedClient(to: "vm0")
        _ = other.drain()
        #expect(victim.call("system_reset") == nil)
        #expect(victim.isClosed)
        #expect(other.takeEvents().isEmpty)  // no RESET: the command did not run
        #expect(other.result("query-status")?["status"] == "running")
    }

    @Test func eventsComeBeforeTheReplyAndTheCommandRuns() throws {
        let f = try fleet("""
              - {vm: vm0, command: query-name, times: 1, action: event, event: migration-failed}
              - {vm: vm1, command: query-name, times: 1, action: event, event: guest-panicked}
            """)
        let vm0 = f.negotiatedClient(to: "vm0")
        #expect(vm0.result("query-name") == ["name": "vm0"])
        #expect(vm0.takeEvents().map { $0["data"] } == [["status": "failed"]])
        let vm1 = f.negotiatedClient(to: "vm1")
        _ = vm1.call("set-action", ["panic": "pause"])
        #expect(vm1.result("query-name") == ["name": "vm1"])
        #expect(vm1.takeEvents().compactMap { $0["event"]?.stringValue } == ["GUEST_PANICKED", "STOP"])
        #expect(vm1.result("query-status")?["status"] == "guest-panicked")
    }

    @Test func controlCommandsAddListAndRemove() throws {
        let f = try fleet()
        let control = f.connectControl()
        control.negotiate()
        let added = control.result("fault-add", ["command": "query-kvm", "times": 3, "action": "error", "desc": "x"])
        #expect(added?["id"] == "fault-0" && added?["fired"] == 0)
        _ = f.negotiatedClient(to: "vm0").call("query-kvm")
        _ = f.negotiatedClient(to: "vm1").call("query-kvm")
        _ = f.negotiatedClient(to: "vm1").call("query-kvm")
        let listed = control.result("query-faults")?.arrayValue?.first
        #expect(listed?["fired"] == 3 && listed?["fired-by-vm"] == ["vm0": 1, "vm1": 2])
        #expect(listed?["remaining"] == nil)  // per VM for a fleet-wide fault
        #expect(control.errorPair("fault-remove", ["id": "nope"]) == ("GenericError", "Fault 'nope' not found"))
        #expect(control.result("fault-remove", ["id": "fault-0"]) == .object([:]))
        #expect(f.vm("vm0")?.faults == nil && f.vm("vm1")?.faults == nil)
        #expect(f.negotiatedClient(to: "vm0").result("query-kvm") != nil)
    }

    @Test func firingsOnAnEndedVMStillCount() throws {
        let f = try fleet("  - {id: k, command: query-kvm, action: error, desc: x}\n  - {id: one, vm: vm0, times: 2, action: drop-reply}")
        let control = f.connectControl()
        control.negotiate()
        _ = f.negotiatedClient(to: "vm0").call("query-kvm")
        _ = f.negotiatedClient(to: "vm1").call("query-kvm")
        #expect(control.result("vm-destroy", ["name": "vm0"]) == .object([:]))
        let listed = control.result("query-faults")?.arrayValue
        #expect(listed?.first?["fired"] == 2 && listed?.first?["fired-by-vm"] == ["vm1": 1])
        #expect(listed?.last?["fired"] == 0 && listed?.last?["remaining"] == 2)
        _ = control.call("fault-remove", ["id": "k"])
        _ = control.call("fault-add", ["id": "k", "command": "query-kvm", "action": "error", "desc": "y"])
        #expect(control.result("query-faults")?.arrayValue?.last?["fired"] == 0)  // a new fault, a new count
    }

    @Test func theFleetLimitHolds() throws {
        let f = try TestFleet(yaml: "limits: {faults-per-fleet: 1}\nvms: [{name: vm0}]")
        let control = f.connectControl()
        control.negotiate()
        #expect(control.result("fault-add", ["action": "disconnect"]) != nil)
        #expect(control.errorPair("fault-add", ["action": "disconnect"]) == ("GenericError", "the fleet has 1 faults (limit faults-per-fleet)"))
    }
}
