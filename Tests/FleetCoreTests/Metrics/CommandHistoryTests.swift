@testable import FleetCore
import QMPWire
import Testing

@Suite struct CommandHistoryTests {
    private func record(_ history: inout CommandHistory, _ name: String) {
        history.append(CommandRecord(sequence: history.nextSequence(), session: 1, request: QMPRequest(execute: name),
                                     result: .success(.object([:])), answered: (0, 0), nanoseconds: 0))
    }

    @Test func keepsTheLastNOldestFirst() {
        var history = CommandHistory(capacity: 3)
        for name in ["a", "b"] { record(&history, name) }
        #expect(history.records.map(\.request.execute) == ["a", "b"])
        for name in ["c", "d", "e"] { record(&history, name) }
        #expect(history.records.map(\.request.execute) == ["c", "d", "e"])
        #expect(history.records.map(\.sequence) == [3, 4, 5])
        record(&history, "f")
        #expect(history.records.map(\.request.execute) == ["d", "e", "f"])
    }

    @Test func capacityZeroKeepsNothing() {
        var history = CommandHistory(capacity: 0)
        record(&history, "a")
        #expect(history.records.isEmpty)
        #expect(history.total == 1)
    }

    @Test func pageTextIsCutAtTheLimit() throws {
        let record = CommandRecord(sequence: 1, session: nil, request: QMPRequest(execute: "x", id: .int(4)),
                                   result: .failure(.generic(String(repeating: "é", count: 50))), answered: (1, 500_000), nanoseconds: 1_500_000)
        var parser = JSONStreamParser()
        var parsed: JSONValue?
        parser.feed(Array(record.pageJSON(textLimit: 40).utf8)) { parsed = try? $0.get() }
        let json = try #require(parsed)
        #expect(json["request"]?.stringValue == #"{"execute": "x", "id": 4}"#)
        let reply = try #require(json["reply"]?.stringValue)
        #expect(reply.hasSuffix("…") && reply.utf8.count <= 40 + "…".utf8.count)
        #expect(json["client"] == .null)
        #expect(json["ms"]?.doubleValue == 1.5)
    }
}
