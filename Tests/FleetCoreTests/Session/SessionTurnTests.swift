import FleetCore
import QMPFleetTesting
import QMPWire
import Testing

/// `session-turn-us`: one client's queued commands run for at most that
/// long in one loop turn; the rest runs in the turns that follow, in order.
struct SessionTurnTests {
    private func pipelined(_ client: TestClient, _ count: Int) {
        client.write(String(repeating: #"{"execute": "query-status"}"#, count: count))
    }

    @Test func pastItsTurnASessionGoesOnInTheNextTurnsInOrder() throws {
        let fleet = try TestFleet(yaml: "limits: {session-turn-us: 1}\nvms: [{name: vm0}]")
        let client = fleet.negotiatedClient(to: "vm0")
        let turns = fleet.clock.nextTurnCount
        client.write(#"{"execute": "query-name", "id": "first"}"#
                     + String(repeating: #"{"execute": "query-status"}"#, count: 18)
                     + #"{"execute": "query-name", "id": "last"}"#)
        let replies = client.drain()
        #expect(replies.count == 20)
        #expect(replies.first?["id"] == "first")
        #expect(replies.last?["id"] == "last")
        #expect(replies.allSatisfy { $0["return"] != nil })
        // A 1 µs turn holds one command: each of the other 19 had a turn of its own.
        #expect(fleet.clock.nextTurnCount - turns >= 19)
    }

    @Test func withinItsTurnASessionRunsEverythingAtOnce() throws {
        let fleet = try TestFleet(yaml: "limits: {session-turn-us: 10000000}\nvms: [{name: vm0}]")
        let client = fleet.negotiatedClient(to: "vm0")
        let turns = fleet.clock.nextTurnCount
        pipelined(client, 8)
        #expect(client.drain().count == 8)
        #expect(fleet.clock.nextTurnCount == turns)
    }

    @Test func theTurnIsALimit() throws {
        #expect(throws: (any Error).self) { _ = try TestFleet(yaml: "limits: {session-turn-us: 0}\nvms: []") }
    }
}
