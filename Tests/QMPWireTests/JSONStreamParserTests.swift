import QMPWire
import Testing

/// The stream parser against QEMU 7.2's observed behaviour.
struct JSONStreamParserTests {
    func parseAll(_ text: String, limits: JSONLimits = .qemu) -> [Result<JSONValue, JSONParseError>] {
        var parser = JSONStreamParser(limits: limits)
        var out: [Result<JSONValue, JSONParseError>] = []
        parser.feed(Array(text.utf8)) { out.append($0) }
        return out
    }

    func errors(_ results: [Result<JSONValue, JSONParseError>]) -> [String?] {
        results.map { if case .failure(let e) = $0 { return e.message } else { return nil } }
    }

    @Test func splitAtEveryByteGivesTheSameMessages() throws {
        let input = #"{"execute": "qmp_capabilities", "id": 1}{"execute":'query-status',"arguments":{"a":[1,2.5,-3e2,true,false,null,"\u00e9\n"]}}"#
        let whole = parseAll(input)
        #expect(whole.count == 2)
        let bytes = Array(input.utf8)
        for cut in 1..<bytes.count {
            var parser = JSONStreamParser()
            var out: [Result<JSONValue, JSONParseError>] = []
            parser.feed(Array(bytes[..<cut])) { out.append($0) }
            parser.feed(Array(bytes[cut...])) { out.append($0) }
            #expect(out == whole, "cut at \(cut)")
        }
        let second = try whole[1].get()
        #expect(second["execute"] == "query-status")
        #expect(second["arguments"]?["a"] == [1, 2.5, -300.0, true, false, nil, "é\n"])
    }

    @Test func newlineIsNotADelimiterAndBlankLinesGetNothing() {
        #expect(parseAll("\n\n  \r\n").isEmpty)
        let r = parseAll("{\"execute\":\n\n\"stop\"}\n")
        #expect(r.count == 1)
    }

    @Test func scalarsAtTopLevelAreMessages() {
        #expect(parseAll("1 ").count == 1)
        #expect(parseAll("\"x\"[]").count == 2)
    }

    // QEMU 7.2: `{"execute": foo}` -> "JSON parse error, invalid keyword 'foo'".
    @Test func invalidKeyword() {
        #expect(errors(parseAll(#"{"execute": foo}"#)) == ["JSON parse error, invalid keyword 'foo'"])
    }

    // QEMU 7.2: a stray byte ends the message; recovery skips to the next
    // structural or control character, where the lone '}' is "expecting value".
    @Test func strayByteAndRecovery() throws {
        let r = parseAll(#"{"execute": @x} {"execute": "stop"}"#)
        #expect(errors(r) == ["JSON parse error, stray '@'", "JSON parse error, expecting value", nil])
        #expect(try r[2].get()["execute"] == "stop")
    }

    @Test func parserErrorTexts() {
        #expect(errors(parseAll("}")) == ["JSON parse error, expecting value"])
        #expect(errors(parseAll(#"{"a" 1}"#)) == ["JSON parse error, missing : in object pair"])
        #expect(errors(parseAll(#"{"a": 1 "b": 2}"#)) == ["JSON parse error, expected separator in dict"])
        #expect(errors(parseAll("[1 2]")) == ["JSON parse error, expected separator in list"])
        #expect(errors(parseAll(#"{1: 2}"#)) == ["JSON parse error, key is not a string in object"])
        #expect(errors(parseAll(#"{"a": 1, "a": 2}"#)) == ["JSON parse error, duplicate key"])
        #expect(errors(parseAll(#"["\q"]"#)) == ["JSON parse error, invalid escape sequence in string"])
        #expect(errors(parseAll(#"["\uD800"]"#)) == ["JSON parse error, \\uD800 is not a valid Unicode character"])
        #expect(errors(parseAll("[\"\u{01}\"]")).first??.hasPrefix("JSON parse error, stray") == true)
    }

    @Test func invalidUTF8InString() {
        var parser = JSONStreamParser()
        var out: [Result<JSONValue, JSONParseError>] = []
        parser.feed([UInt8(ascii: "["), UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\""), UInt8(ascii: "]")]) { out.append($0) }
        #expect(errors(out) == ["JSON parse error, invalid UTF-8 sequence in string"])
    }

    @Test func nestingLimitAtAndPastTheEdge() {
        let limits = JSONLimits(maxNesting: 4)
        #expect(errors(parseAll("[[[[1]]]]", limits: limits)) == [nil])
        let past = parseAll("[[[[[1]]]]]", limits: limits)
        #expect(errors(past).first == "JSON nesting depth limit exceeded")
        // QEMU answers the leftovers too: 1 is a scalar, then five lone ']'.
        #expect(past.count == 7)
    }

    @Test func tokenLimits() {
        #expect(errors(parseAll("[1,2,3]", limits: JSONLimits(maxTokenCount: 7))) == [nil])
        #expect(errors(parseAll("[1,2,3,4]", limits: JSONLimits(maxTokenCount: 7))).first == "JSON token count limit exceeded")
        let big = "[\"" + String(repeating: "x", count: 100) + "\"]"
        #expect(errors(parseAll(big, limits: JSONLimits(maxTokenBytes: 50))).first == "JSON token size limit exceeded")
    }

    @Test func numbers() throws {
        #expect(try JSONValue(parsing: "9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue(parsing: "-9223372036854775808") == .int(Int64.min))
        #expect(try JSONValue(parsing: "18446744073709551615") == .uint(UInt64.max))
        #expect(try JSONValue(parsing: "18446744073709551616") == .double(18446744073709551616.0))
        #expect(try JSONValue(parsing: "1.5e3") == .double(1500))
    }

    @Test func singleQuotedStrings() throws {
        #expect(try JSONValue(parsing: #"{'a': 'it\'s'}"#) == ["a": "it's"])
    }
}
