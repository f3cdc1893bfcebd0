import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// The per-client protocol: greeting, negotiation, ordering, ids, limits.
struct SessionTests {
    let fleet: TestFleet

    init() throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0}, {name: vm1, start-paused: true}]")
    }

    @Test func greetingThenNegotiation() throws {
        let client = fleet.connect(to: "vm0")
        let greeting = try #require(client.received.first)
        #expect(greeting["QMP"]?["capabilities"] == ["oob"])
        #expect(greeting["QMP"]?["version"]?["qemu"] == ["major": 7, "minor": 2, "micro": 0])
        #expect(String(decoding: client.rawOutput, as: UTF8.self) ==
            #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}"# + "\r\n")
        _ = client.drain()
        let before = client.call("query-status")
        #expect(before?["error"]?["class"] == "CommandNotFound")
        #expect(before?["error"]?["desc"] == "Expecting capabilities negotiation with 'qmp_capabilities'")
        #expect(client.call("qmp_capabilities")?["return"] == .object([:]))
        let again = client.call("qmp_capabilities")
        #expect(again?["error"]?["desc"] == "Capabilities negotiation is already complete, command ignored")
        #expect(client.call("query-status")?["return"]?["status"] == "running")
    }

    @Test func idIsEchoedVerbatim() {
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        _ = client.drain()
        client.write(#"{"execute": "query-name", "id": {"a": [1, "x", null, 2.5]}}"#)
        client.write(#"{"execute": "nope", "id": "e"}"#)
        let replies = client.drain()
        #expect(replies.count == 2)
        #expect(replies[0]["id"] == ["a": [1, "x", nil, 2.5]])
        #expect(replies[1]["id"] == "e")
        #expect(replies[1]["error"]?["desc"] == "The command nope has not been found")
        let raw = String(decoding: client.rawOutput, as: UTF8.self)
        #expect(raw.contains(#"{"id": "e", "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}"#))
    }

    @Test func argumentsAreCheckedAgainstTheSchema() {
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        #expect(client.call("stop", ["force": true])?["error"]?["desc"] == "Parameter 'force' is unexpected")
        #expect(client.call("human-monitor-command")?["error"]?["desc"] == "Parameter 'command-line' is missing")
        #expect(client.call("human-monitor-command", ["command-line": 1])?["error"]?["desc"]
            == "Invalid parameter type for 'command-line', expected: string")
    }

    @Test func eventsReachEveryNegotiatedClientOnly() {
        let a = fleet.connect(to: "vm0"), b = fleet.connect(to: "vm0"), c = fleet.connect(to: "vm0")
        a.negotiate()
        b.negotiate()
        _ = c.drain()  // c stays in negotiation
        #expect(a.call("stop")?["return"] == .object([:]))
        #expect(a.takeEvents().map { $0["event"] } == ["STOP"])
        #expect(b.takeEvents().map { $0["event"] } == ["STOP"])
        #expect(c.takeEvents().isEmpty)
        #expect(b.call("query-status")?["return"]?["status"] == "paused")
        // Another VM is untouched.
        let other = fleet.connect(to: "vm1")
        other.negotiate()
        #expect(other.call("query-status")?["return"]?["status"] == "prelaunch")
    }

    @Test func eventPrecedesTheReplyOfTheCommandThatCausedIt() {
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        _ = client.drain()
        client.execute("stop")
        let lines = client.drain()
        #expect(lines.count == 2)
        #expect(lines[0]["event"] == "STOP")
        #expect(lines[1]["return"] == .object([:]))
    }

    @Test func parseErrorsAreAnsweredAndTheSessionRecovers() {
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        _ = client.drain()
        client.write("[]")
        client.write(#"{"execute": 1}"#)
        client.write(#"{"execute": "query-status"}"#)
        let replies = client.drain()
        #expect(replies.count == 3)
        #expect(replies[0]["error"]?["desc"] == "QMP input must be a JSON object")
        #expect(replies[1]["error"]?["desc"] == "QMP input member 'execute' must be a string")
        #expect(replies[2]["return"]?["status"] == "running")
    }

    /// Events do not wait for a client: one that is twice its output
    /// budget behind is not reading, and is cut off alone.
    @Test func slowReaderIsDisconnectedWithoutAffectingOthers() {
        let slow = fleet.connect(to: "vm0"), fast = fleet.connect(to: "vm0")
        slow.negotiate()
        fast.negotiate()
        let budget = fleet.router.config.limits.sessionOutputBytes
        slow.simulatedBacklog = budget
        #expect(fast.call("stop")?["return"] == .object([:]))
        #expect(!slow.isClosed, "one budget behind is not yet too far")
        slow.simulatedBacklog = 2 * budget
        #expect(fast.call("cont")?["return"] == .object([:]))
        #expect(slow.isClosed)
        #expect(!fast.isClosed)
        #expect(fleet.vm("vm0")?.sessions.count == 1)
    }

    /// A reply is queued whatever its size (issue 18: a 10 MiB `id` is
    /// echoed to a client that reads it); past the budget the session runs
    /// nothing more until the client has read, and nothing is dropped.
    @Test func replyPastTheOutputBudgetWaitsForTheClient() {
        let client = fleet.connect(to: "vm0")
        client.negotiate()
        let budget = fleet.router.config.limits.sessionOutputBytes
        let big = String(repeating: "x", count: budget + 1)
        client.write(#"{"execute": "query-name", "id": "\#(big)"}{"execute": "query-status", "id": 2}"#)
        #expect(client.drain().map { $0["id"] } == [.string(big), 2])
        #expect(!client.isClosed)
        // Now the socket holds a budget's worth the client has not taken:
        // the next reply goes past it, and the one after waits.
        client.simulatedBacklog = budget + 1
        client.write(#"{"execute": "query-status", "id": 3}{"execute": "query-status", "id": 4}"#)
        #expect(client.drain().map { $0["id"] } == [3])
        #expect(client.isInputPaused)
        #expect(!client.isClosed)
        client.readBacklog()
        #expect(client.drain().map { $0["id"] } == [4])
        #expect(!client.isInputPaused)
    }
}
