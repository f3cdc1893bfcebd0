import QMPWire
import Testing

/// The token parser is fed each token as the lexer completes it (issue 16):
/// a message's value is built while its reads come, no token is kept, and
/// the parser's memory is what the fleet's budget counts.
struct JSONTokenParserTests {
    /// `[ "<100 bytes>", ... ` without its closing bracket: `count` strings held.
    static func openArray(strings count: Int) -> [UInt8] {
        let element = "\"" + String(repeating: "s", count: 100) + "\""
        return Array(("[" + Array(repeating: element, count: count).joined(separator: ",")).utf8)
    }

    /// The partial value is built as the tokens come, and counted: at least
    /// the bytes its strings and members hold in use (an under-count by a
    /// constant factor at most: capacity and malloc's rounding aside).
    @Test func partialValueIsCountedAsItGrows() {
        var parser = JSONStreamParser()
        var out: [Result<JSONValue, JSONParseError>] = []
        parser.feed(Self.openArray(strings: 1000)) { out.append($0) }
        #expect(out.isEmpty)
        #expect(parser.bufferedByteCount == 0, "no token is kept once parsed")
        #expect(parser.pendingByteCount >= 1000 * (100 + MemoryLayout<JSONValue>.stride))

        var objectParser = JSONStreamParser()
        objectParser.feed(DuplicateKeyTests.object(keys: 20_000).dropLast()) { out.append($0) }
        #expect(out.isEmpty)
        #expect(objectParser.pendingByteCount >= 20_000 * MemoryLayout<(key: String, value: JSONValue)>.stride)
    }

    /// After the first error the partial value is dropped at once: the rest
    /// of the message is only counted, as QEMU's streamer counts it, until
    /// it ends and the error is reported.
    @Test func firstErrorDropsThePartialValue() {
        var parser = JSONStreamParser()
        var out: [Result<JSONValue, JSONParseError>] = []
        parser.feed(Self.openArray(strings: 1000) + Array(", nul, ".utf8)) { out.append($0) }
        #expect(out.isEmpty)
        #expect(parser.pendingByteCount == 0)
        parser.feed(Self.openArray(strings: 1000).dropFirst() + Array(", {\"a\" 1}, 2]".utf8)) { out.append($0) }
        #expect(errors(out) == ["JSON parse error, invalid keyword 'nul'"])
        #expect(parser.pendingByteCount == 0)
    }

    /// The first error in token order wins, wherever the message ends, and
    /// a key's own value is parsed before it is found not to be a string.
    @Test func errorsComeInTokenOrder() {
        #expect(errors(parseAll(#"{"a": 1, "a": nul}"#)) == ["JSON parse error, invalid keyword 'nul'"])
        #expect(errors(parseAll(#"{"a": 1, "a": 2, "b" 3}"#)) == ["JSON parse error, duplicate key"])
        #expect(errors(parseAll(#"{{"x" 1}: 2}"#)) == ["JSON parse error, missing : in object pair"])
        #expect(errors(parseAll(#"{{"x": 1}: 2}"#)) == ["JSON parse error, key is not a string in object"])
        // The streamer's counts end the message at `]`, not the parser.
        #expect(errors(parseAll(#"{[1, 2}: 2]}"#)) == ["JSON parse error, expected separator in list", "JSON parse error, expecting value"])
        #expect(errors(parseAll(#"[1, 2 3]"#)) == ["JSON parse error, expected separator in list"])
        #expect(errors(parseAll(#"{"a": 1 "b": 2}"#)) == ["JSON parse error, expected separator in dict"])
    }

    /// The same messages whatever the reads' sizes: every token may straddle two.
    @Test func splitsChangeNothing() {
        let text = #"{"execute": "x", "arguments": {"list": [1, -2.5e3, true, null, "\u00e9\ud83d\ude00", 'it\'s'], "k": {"a": [[], {}]}}}"#
            + #"{"a": 1, "a": 2}[1 2]{"id": 18446744073709551615}"#
        let whole = parseAll(text)
        #expect(whole.count == 4)
        for chunk in 1...9 { #expect(parseAll(text, chunk: chunk) == whole, "chunk \(chunk)") }
    }

    /// Deep nesting costs heap, not thread stack: the parser keeps an
    /// explicit stack, bounded by the streamer's nesting limit.
    @Test func deepNestingWithinTheLimit() throws {
        let depth = JSONLimits.qemu.maxNesting
        let text = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        var value = try #require(try parseAll(text, chunk: 100).first?.get())
        for _ in 0..<depth {
            guard case .array(let elements) = value, elements.count == 1 else { Issue.record("not nested"); return }
            value = elements[0]
        }
        #expect(value == 1)
    }
}
