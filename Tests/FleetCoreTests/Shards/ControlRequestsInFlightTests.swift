import Foundation
import FleetCore
import QMPWire
import Testing

/// The control socket lets a client's `vm-create`s overlap (a VM made on
/// another loop no longer holds up the next one), at most
/// `control-requests-in-flight` of them, with replies, errors and
/// `query-vms` as one at a time gives them.
@Suite(.serialized) struct ControlRequestsInFlightTests {
    typealias RunningFleet = FleetShardsTests.RunningFleet

    /// Holds loop 1 until `release`: a VM claimed for it is made only then.
    final class HeldLoop: @unchecked Sendable {
        private let gate = DispatchSemaphore(value: 0)
        private var released = false

        init(_ running: RunningFleet) {
            let gate = self.gate
            running.fleet.loops[1].execute { gate.wait() }
        }

        func release() {
            guard !released else { return }
            released = true
            gate.signal()
        }
    }

    private func creates(_ names: [String], from first: Int = 0) -> String {
        names.enumerated().map { #"{"execute": "vm-create", "arguments": {"name": "\#($1)"}, "id": \#($0 + first)}"# }.joined()
    }

    private func exists(_ name: String, in running: RunningFleet, within seconds: Double = 0) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if FileManager.default.fileExists(atPath: "\(running.directory)/\(name).qmp") { return true }
            usleep(5_000)
        } while Date() < deadline
        return false
    }

    private func names(_ control: LineClient) throws -> [String]? {
        try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
    }

    @Test func aCreateOnAHeldLoopDoesNotHoldUpTheNextUpToTheLimit() throws {
        let running = try RunningFleet(vms: 0, loops: 2, extra: "limits: {control-requests-in-flight: 3}")
        defer { running.stop() }
        let control = try running.client("fleet")
        let held = HeldLoop(running)
        defer { held.release() }
        // a: loop 0, made at once. b: claimed for loop 1, held. c: loop 0,
        // beside b. d: claimed for loop 1: b, c (its reply waits for b's)
        // and d are three in flight, so e waits.
        try control.send(creates(["a", "b", "c", "d", "e"]))
        #expect(exists("c", in: running, within: 5), "c waited for b on the held loop")
        usleep(100_000)
        #expect(!exists("e", in: running), "a fourth request in flight past control-requests-in-flight: 3")
        held.release()
        for (i, name) in ["a", "b", "c", "d", "e"].enumerated() {
            let reply = try control.readLine()
            #expect(reply["id"] == .int(Int64(i)))
            #expect(reply["return"]?["name"] == .string(name))
        }
        #expect(try names(control) == ["a", "b", "c", "d", "e"])
    }

    @Test func errorsInTheMiddleKeepTheirPlace() throws {
        let running = try RunningFleet(vms: 0, loops: 2)
        defer { running.stop() }
        let control = try running.client("fleet")
        let held = HeldLoop(running)
        defer { held.release() }
        // z fails on loop 0 while b is held; bad/x and the stray '}' wait
        // for what is in flight; c is made after them.
        try control.send(creates(["a", "b"]) + #"{"execute": "vm-create", "arguments": {"name": "z", "template": "nope"}, "id": 2}"#
            + creates(["bad/x"], from: 3) + "}" + creates(["c"], from: 5))
        #expect(exists("a", in: running, within: 5))
        held.release()
        let replies = try (0..<6).map { _ in try control.readLine() }
        #expect(replies.map { $0["id"] } == [0, 1, 2, 3, nil, 5])
        #expect(replies[1]["return"]?["name"] == "b")
        #expect(replies[2]["error"]?["desc"]?.stringValue?.hasPrefix("vm-create: 'config.template': no template named 'nope'") == true)
        #expect(replies[3]["error"]?["desc"]?.stringValue?.contains("must not contain '/'") == true)
        #expect(replies[4]["error"] != nil)
        #expect(replies[5]["return"]?["name"] == "c")
        #expect(try names(control) == ["a", "b", "c"])
        // z's and bad/x's names were given back.
        #expect(try control.call("vm-create", ["name": "z"])["return"]?["name"] == "z")
    }

    @Test func aCreateAndADestroyOfOneNameStaySerialized() throws {
        let running = try RunningFleet(vms: 0, loops: 2)
        defer { running.stop() }
        let control = try running.client("fleet")
        let held = HeldLoop(running)
        defer { held.release() }
        // x is made on the held loop; its destroy, the create of the same
        // name again and the listing each wait for what is before them.
        try control.send(creates(["a", "x"]) + #"{"execute": "vm-destroy", "arguments": {"name": "x"}, "id": 2}"#
            + creates(["x"], from: 3) + #"{"execute": "query-vms", "id": 4}"# + creates(["x"], from: 5))
        #expect(exists("a", in: running, within: 5))
        held.release()
        let replies = try (0..<6).map { _ in try control.readLine() }
        #expect(replies.map { $0["id"] } == [0, 1, 2, 3, 4, 5])
        #expect(replies[1]["return"]?["name"] == "x")
        #expect(replies[2]["return"] == .object([:]))
        #expect(replies[3]["return"]?["name"] == "x")
        #expect(replies[4]["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["a", "x"])
        #expect(replies[5]["error"]?["desc"] == "VM 'x' already exists")
    }

    @Test func theFleetsVMLimitIsTakenInRequestOrder() throws {
        let running = try RunningFleet(vms: 0, loops: 2, extra: "limits: {vms-per-fleet: 3}")
        defer { running.stop() }
        let control = try running.client("fleet")
        let held = HeldLoop(running)
        defer { held.release() }
        // b is claimed before c and d, though made after them.
        try control.send(creates(["a", "b", "c", "d"]))
        #expect(exists("c", in: running, within: 5))
        held.release()
        let replies = try (0..<4).map { _ in try control.readLine() }
        #expect(replies.prefix(3).map { $0["return"]?["name"] } == ["a", "b", "c"])
        #expect(replies[3]["error"]?["desc"] == "the fleet has 3 VMs (limit vms-per-fleet)")
    }
}
