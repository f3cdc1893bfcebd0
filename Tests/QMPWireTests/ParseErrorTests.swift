import QMPWire
import Testing

/// QEMU 7.2's answers to bad input, and how many: each case was sent raw
/// to `qemu-system-x86_64 -machine none` (7.2.22) after `qmp_capabilities`,
/// followed by a good command, and the replies are recorded next to it
/// ("ok <id>" stands for the good command's return).
struct ParseErrorTests {
    /// The good command's reply.
    static let ok = #"ok "ok""#

    /// The garbage is sent first, then `good`; `-`, `1.` and `1e` eat its `{`.
    static let cases: [(input: String, replies: [String])] = [
        // {"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'foo'"}} then the return
        (#"{"execute": foo}"#, ["JSON parse error, invalid keyword 'foo'", ok]),
        // stray byte: the message is dropped, the lexer skips "x" up to '}', a lone '}' is a message
        (#"{"execute": @x} "#, ["JSON parse error, stray '@'", "JSON parse error, expecting value", ok]),
        ("}", ["JSON parse error, expecting value", ok]),
        ("]]]", Array(repeating: "JSON parse error, expecting value", count: 3) + [ok]),
        ("[]", ["QMP input must be a JSON object", ok]),
        ("1 ", ["QMP input must be a JSON object", ok]),
        (#""x""#, ["QMP input must be a JSON object", ok]),
        (#"{"a" 1}"#, ["JSON parse error, missing : in object pair", ok]),
        (#"{"a"}"#, ["JSON parse error, missing : in object pair", ok]),
        (#"{"a": 1 "b": 2}"#, ["JSON parse error, expected separator in dict", ok]),
        ("[1 2]", ["JSON parse error, expected separator in list", ok]),
        (#"{1: 2}"#, ["JSON parse error, key is not a string in object", ok]),
        (#"{"a": 1, "a": 2}"#, ["JSON parse error, duplicate key", ok]),
        // duplicate key wins over every request check
        (#"{"execute": "query-status", "id": 1, "arguments": 5, "execute": "x"}"#, ["JSON parse error, duplicate key", ok]),
        (#"["\q"]"#, ["JSON parse error, invalid escape sequence in string", ok]),
        (#"{"execute":"query-status","id":"\U0041"}"#, ["JSON parse error, invalid escape sequence in string", ok]),
        (#"{"execute":"query-status","id":1,}"#, ["JSON parse error, expecting value", ok]),
        ("[1,]", ["JSON parse error, expecting value", ok]),
        ("[,1]", ["JSON parse error, expecting value", ok]),
        ("{,}", ["JSON parse error, expecting value", ok]),
        (#"{"a":}"#, ["JSON parse error, expecting value", ok]),
        ("{:1}", ["JSON parse error, expecting value", ok]),
        ("[}", ["JSON parse error, expecting value", ok]),
        ("{]", ["JSON parse error, expecting value", ok]),
        (#"{"a":[}]"#, ["JSON parse error, expecting value", ok]),
        // numbers: the error token includes the byte that broke it
        ("01", ["JSON parse error, stray '01'", ok]),
        (".5", ["JSON parse error, stray '.'", ok]),
        ("TRUE", ["JSON parse error, stray 'T'", ok]),
        ("nul ", ["JSON parse error, invalid keyword 'nul'", ok]),
        ("garbage ", ["JSON parse error, invalid keyword 'garbage'", ok]),
        // a keyword is a run of a-z; "123" is then a number on its own
        ("abc123", ["JSON parse error, invalid keyword 'abc'", "QMP input must be a JSON object", ok]),
        ("@@@ garbage $$$ ", ["JSON parse error, stray '@'", ok]),
        ("@@@ garbage $$$\n", ["JSON parse error, stray '@'", ok]),
        (#"{"execute":"query-status" "id":2}}"#, ["JSON parse error, expected separator in dict", "JSON parse error, expecting value", ok]),
        // after "stray '-{'" the skipping stops at every structural character of the good command
        ("-", ["JSON parse error, stray '-{'"] + Array(repeating: ["JSON parse error, expecting value", "QMP input must be a JSON object"], count: 3).flatMap { $0 } + ["JSON parse error, expecting value"]),
        ("1.", ["JSON parse error, stray '1.{'"] + Array(repeating: ["JSON parse error, expecting value", "QMP input must be a JSON object"], count: 3).flatMap { $0 } + ["JSON parse error, expecting value"]),
        ("1e", ["JSON parse error, stray '1e{'"] + Array(repeating: ["JSON parse error, expecting value", "QMP input must be a JSON object"], count: 3).flatMap { $0 } + ["JSON parse error, expecting value"]),
        // single-quoted strings are strings
        (#"{'execute':'query-status','id':'it\'s'}"#, [#"ok "it's""#, ok]),
        (#"{"execute":"query-status","id":"\'"}"#, [#"ok "'""#, ok]),
        (#"{'execute':'query-status','id':'a"b'}"#, [#"ok "a\"b""#, ok]),
    ]

    @Test(arguments: cases.indices)
    func qemuAnswersAndRecovery(_ index: Int) {
        let (input, expected) = Self.cases[index]
        let replies = qmpReplies(input + good)
        #expect(replies == expected, "input \(input)")
        // The same bytes one at a time give the same replies.
        #expect(qmpReplies(input + good, chunk: 1) == replies)
    }

    // QEMU 7.2 on `...}\x00{...}`: return, "JSON parse error, stray ''", return
    // (the NUL ends the C string QEMU formats). On \xFF: "stray '\uFFFD'".
    @Test func controlAndImpossibleBytesBetweenMessages() {
        let a = Array(#"{"execute":"query-status","id":1}"#.utf8)
        let b = Array(#"{"execute":"query-status","id":2}"#.utf8)
        #expect(qmpReplies(a + [0x00] + b) == ["ok 1", "JSON parse error, stray ''", "ok 2"])
        #expect(qmpReplies(a + [0xFF] + b) == ["ok 1", "JSON parse error, stray '\u{FFFD}'", "ok 2"])
    }

    // QEMU 7.2: a raw tab in a string is an error: stray '"\t' then "expecting value" for the '}'.
    @Test func controlByteInString() {
        #expect(qmpReplies("{\"execute\":\"query-status\",\"id\":\"\t\"}") == ["JSON parse error, stray '\"\t'", "JSON parse error, expecting value"])
        #expect(qmpReplies("[\"\u{01}\"]" + good) == ["JSON parse error, stray '\"\u{01}'", "JSON parse error, expecting value", #"ok "ok""#])
    }

    // QEMU 7.2: `{"execute":"query-status","id":2e}` -> only "stray '2e}'" (the '}' went into the error token).
    @Test func badNumberSwallowsTheClosingBrace() {
        #expect(qmpReplies(#"{"execute":"query-status","id":2e}"#) == ["JSON parse error, stray '2e}'"])
        #expect(qmpReplies(#"{"execute":"query-status","id":-}"#) == ["JSON parse error, stray '-}'"])
    }

    // QEMU 7.2: a 2000-letter keyword is answered with 1041 characters: the
    // message is formatted into a 1024-byte buffer. 1005 letters still fit.
    @Test func longKeywordIsCut() throws {
        let cut = try #require(qmpReplies(String(repeating: "a", count: 2000) + " ").first)
        #expect(cut.count == 1041)
        #expect(cut == "JSON parse error, invalid keyword '" + String(repeating: "a", count: 1006))
        let whole = try #require(qmpReplies(String(repeating: "a", count: 1005) + " ").first)
        #expect(whole == "JSON parse error, invalid keyword '" + String(repeating: "a", count: 1005) + "'")
    }
}
