@testable import FleetCore
import QMPServer
import QMPWire
import Testing

@Suite struct CommandHistoryTests {
    private func record(_ history: inout CommandHistory, _ name: String) {
        history.append(CommandRecord(sequence: history.nextSequence(), session: 1, request: QMPRequest(execute: name),
                                     result: .success(.object([:])), answeredAt: 0, nanoseconds: 0, textLimit: 100))
    }

    private func names(_ history: CommandHistory) -> [String] {
        history.records.map { record -> String in
            guard case .value(let request) = record.request else { return "?" }
            return request.execute
        }
    }

    @Test func keepsTheLastNOldestFirst() {
        var history = CommandHistory(capacity: 3)
        for name in ["a", "b"] { record(&history, name) }
        #expect(names(history) == ["a", "b"])
        for name in ["c", "d", "e"] { record(&history, name) }
        #expect(names(history) == ["c", "d", "e"])
        #expect(history.records.map(\.sequence) == [3, 4, 5])
        record(&history, "f")
        #expect(names(history) == ["d", "e", "f"])
    }

    @Test func largerThanStopsAtTheLimit() {
        let big = JSONValue.array((0..<10_000).map { .object(["name": .string("command-\($0)")]) })
        #expect(CommandRecord.isLarger(big, than: 4096))
        #expect(!CommandRecord.isLarger(.object(["status": .string("running"), "running": .bool(true)]), than: 4096))
        #expect(CommandRecord.isLarger(.string(String(repeating: "x", count: 5000)), than: 4096))
    }

    @Test func capacityZeroKeepsNothing() {
        var history = CommandHistory(capacity: 0)
        record(&history, "a")
        #expect(history.records.isEmpty)
        #expect(history.total == 1)
    }

    @Test func pageTextIsCutAtTheLimit() throws {
        let record = CommandRecord(sequence: 1, session: nil, request: QMPRequest(execute: "x", id: .int(4)),
                                   result: .failure(.generic(String(repeating: "é", count: 50))), answeredAt: 0,
                                   nanoseconds: 1_500_000, textLimit: 40)
        // The reply is over the limit: kept as its cut text, not as the value.
        guard case .text = record.reply, case .value = record.request else {
            Issue.record("a large reply must be kept cut, a small request whole")
            return
        }
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

    /// A long string argument or reply is shortened before it is written
    /// out (a 1 MiB argument cost the command its whole text): the kept
    /// text is exactly the cut of the whole text, escapes and non-ASCII too.
    @Test func longStringsGiveTheSameCutText() {
        for filler in ["a", "é", "\u{1F600}", "\"", "e\u{301}"] {
            let long = String(repeating: filler, count: 3000)
            for limit in [1, 40, 100, 1024] {
                let request = QMPRequest(execute: "x", arguments: ["s": .string(long), "n": .int(1)], id: .string(long))
                let result: CommandResult = .success(.array([.string("ok"), .object(["s": .string(long)])]))
                let record = CommandRecord(sequence: 1, session: nil, request: request, result: QMPReply(result), answeredAt: 0,
                                           nanoseconds: 0, textLimit: limit)
                guard case .text(let requestText) = record.request, case .text(let replyText) = record.reply else {
                    Issue.record("a long request and reply are kept as text")
                    return
                }
                #expect(requestText == CommandRecord.cut(CommandRecord.requestJSON(request).jsonText, to: limit), "\(filler) \(limit)")
                #expect(replyText == CommandRecord.cut(CommandRecord.replyJSON(result, id: request.id).jsonText, to: limit), "\(filler) \(limit)")
                // A plugin's reply kept as its text (QMPReply.encoded) is cut the same.
                let encoded = CommandRecord(sequence: 1, session: nil, request: request, result: .encoded(CanonicalJSON(try! result.get())),
                                            answeredAt: 0, nanoseconds: 0, textLimit: limit)
                guard case .text(let encodedText) = encoded.reply else {
                    Issue.record("a long encoded reply is kept as text")
                    return
                }
                #expect(encodedText == replyText, "\(filler) \(limit)")
            }
        }
    }

    /// A record keeps the monotonic reading its latency was taken with; the
    /// page's "time" is that reading as Unix time, made when read.
    @Test func pageTimeIsTheAnswerInWallTime() throws {
        let twoSecondsAgo = MonotonicClock.nanoseconds() - 2_000_000_000
        let record = CommandRecord(sequence: 1, session: 1, request: QMPRequest(execute: "x"), result: .success(.object([:])),
                                   answeredAt: twoSecondsAgo, nanoseconds: 0, textLimit: 100)
        var parser = JSONStreamParser()
        var parsed: JSONValue?
        parser.feed(Array(record.pageJSON(textLimit: 100).utf8)) { parsed = try? $0.get() }
        let time = try #require(parsed?["time"]?.doubleValue)
        let now = WallClock.now()
        let expected = Double(now.seconds) + Double(now.microseconds) / 1e6 - 2
        #expect(abs(time - expected) < 0.5)
    }
}
