import QMPWire
import Testing

/// How the stream is cut into messages: at any byte, many per feed, newline
/// not a delimiter (json-streamer.c).
struct StreamFramingTests {
    /// Inputs that exercise every lexer state, the fast path and its
    /// fall-backs, errors and recovery.
    static let corpus: [String] = [
        #"{"execute": "qmp_capabilities", "id": 1}{"execute":'query-status',"arguments":{"a":[1,2.5,-3e2,true,false,null,"\u00e9\n"]}}"#,
        #"{"execute": "x", "id": [1, -2, 0, 18446744073709551615, -9223372036854775809, 1.5E-3, {"k": "v"}, [], {}]}"#,
        #"{"execute": "x", "id": "é😀 \u0041 \\ \/ \" '"}  {"execute": 'y', 'id': 'it\'s "q"'}"#,
        #"{"execute": foo} {"execute": @x} -{"a":1} 1.{"b":2} 01 .5 TRUE nul abc123 [1 2] {"a" 1} {"a": 1, "a": 2}"#,
        "{\"execute\": \"x\", \"id\": \"\u{7F}\"}\t\r\n{\"execute\":\n\"y\"\n}\n",
        #"[[[{"a": [[], {}]}]]] ]]] [} {] {"a":[}] true false null "s" 42 "#,
        #"{"id": "\u12"} {"id": "\ud83d\u0041"} {"id": "\udc00"} ["\q"] {"a":} {,} [,1] [1,]"#,
    ]

    @Test(arguments: corpus)
    func splitAtEveryByteGivesTheSameMessages(_ input: String) {
        let whole = parseAll(input)
        #expect(!whole.isEmpty)
        let bytes = Array(input.utf8)
        for cut in 1..<bytes.count {
            var parser = JSONStreamParser()
            var out: [Result<JSONValue, JSONParseError>] = []
            parser.feed(Array(bytes[..<cut])) { out.append($0) }
            parser.feed(Array(bytes[cut...])) { out.append($0) }
            #expect(out == whole, "cut at \(cut)")
        }
        #expect(parseAll(bytes, chunk: 1) == whole)
        #expect(parseAll(bytes, chunk: 3) == whole)
    }

    @Test func manyMessagesInOneFeed() throws {
        let input = String(repeating: good, count: 500)
        let results = parseAll(input)
        #expect(results.count == 500)
        #expect(try results.allSatisfy { try $0.get()["id"] == "ok" })
    }

    // QEMU 7.2: "\n\n  \r\n" gets no reply; {"execute":\n\n"query-status"}\n gets one.
    @Test func newlineIsNotADelimiterAndBlankLinesGetNothing() {
        #expect(parseAll("\n\n  \r\n").isEmpty)
        #expect(qmpReplies("{\"execute\":\n\n\"query-status\"}\n") == ["ok "])
    }

    // QEMU 7.2: `true false null {...}` -> three "QMP input must be a JSON object", then the reply.
    @Test func scalarsAtTopLevelAreMessages() {
        #expect(parseAll("1 ").count == 1)
        #expect(parseAll("1").isEmpty, "a number is only complete at the next byte")
        #expect(parseAll("\"x\"[]").count == 2)
        #expect(qmpReplies("true false null " + good) == Array(repeating: "QMP input must be a JSON object", count: 3) + [#"ok "ok""#])
    }

    @Test func partialMessageIsHeldAndResetDropsIt() throws {
        var parser = JSONStreamParser()
        var out: [Result<JSONValue, JSONParseError>] = []
        parser.feed(Array(#"{"execute": "qu"#.utf8)) { out.append($0) }
        #expect(out.isEmpty)
        // Only the unfinished token's bytes are kept; the tokens before it
        // are parsed already, and their value is what else is pending.
        #expect(parser.bufferedByteCount == #""qu"#.count)
        #expect(parser.pendingByteCount > parser.bufferedByteCount)
        parser.feed(Array(#"ery-status"}"#.utf8)) { out.append($0) }
        #expect(try out.map { try $0.get()["execute"] } == ["query-status"])
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.pendingByteCount == 0)

        parser.feed(Array(#"{"execute": "#.utf8)) { out.append($0) }
        parser.reset()
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.pendingByteCount == 0)
        parser.feed(Array(good.utf8)) { out.append($0) }
        #expect(out.count == 2)
    }

    /// Blanks between the tokens of a pending message are not kept, as in QEMU.
    @Test func whitespaceIsNotBuffered() {
        var parser = JSONStreamParser()
        parser.feed(Array("[".utf8)) { _ in }
        let pending = parser.pendingByteCount
        for _ in 0..<100 { parser.feed([UInt8](repeating: 0x20, count: 1000)) { _ in } }
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.pendingByteCount == pending)
    }

    @Test func longStringAcrossManyFeeds() throws {
        let payload = String(repeating: "abcdefgh", count: 100_000)
        let input = Array(#"{"execute": "x", "arguments": {"data": ""#.utf8) + Array(payload.utf8) + Array(#""}}"#.utf8)
        let results = parseAll(input, chunk: 4096)
        #expect(try results.map { try $0.get()["arguments"]?["data"] } == [.string(payload)])
    }
}
