import QMPWire
import Testing

/// json-streamer.c's limits, at and past the edge.
struct JSONLimitsTests {
    @Test func defaultsAreQEMUs() {
        #expect(JSONLimits.qemu.maxNesting == 1024)
        #expect(JSONLimits.qemu.maxTokenBytes == 64 << 20)
        #expect(JSONLimits.qemu.maxTokenCount == 2 << 20)
    }

    // QEMU 7.2: 1024 '[' then 1024 ']' -> "QMP input must be a JSON object" (it parsed);
    // 1025 of each -> "JSON nesting depth limit exceeded", then 1025 x "JSON parse error,
    // expecting value" (one per leftover ']'), then the good command's return.
    @Test func nestingAtAndPastTheEdge() {
        let at = qmpReplies(String(repeating: "[", count: 1024) + String(repeating: "]", count: 1024) + good)
        #expect(at == ["QMP input must be a JSON object", #"ok "ok""#])
        let past = qmpReplies(String(repeating: "[", count: 1025) + String(repeating: "]", count: 1025) + good)
        #expect(past == ["JSON nesting depth limit exceeded"]
            + Array(repeating: "JSON parse error, expecting value", count: 1025) + [#"ok "ok""#])
    }

    // QEMU 7.2: 1025 x '{"a":' then 1025 '}' -> nesting error, "QMP input must be a JSON object"
    // for the "a" that follows, 1026 x "expecting value" (the ':' and each '}'), then the return.
    @Test func nestingPastTheEdgeInObjects() {
        let replies = qmpReplies(String(repeating: #"{"a":"#, count: 1025) + String(repeating: "}", count: 1025) + good)
        #expect(replies == ["JSON nesting depth limit exceeded", "QMP input must be a JSON object"]
            + Array(repeating: "JSON parse error, expecting value", count: 1026) + [#"ok "ok""#])
    }

    @Test func nestingWithASmallLimit() {
        let limits = JSONLimits(maxNesting: 4)
        #expect(errors(parseAll("[[[[1]]]]", limits: limits)) == [nil])
        let past = parseAll("[[[[[1]]]]]", limits: limits)
        // The nesting error, then 1 (a scalar), then five lone ']'.
        #expect(errors(past) == ["JSON nesting depth limit exceeded", nil] + Array(repeating: "JSON parse error, expecting value", count: 5))
    }

    // QEMU 7.2 (each case about 8.6 s of QEMU time):
    //   '[' + '1,' x 1048574 + '1]'   (2097151 tokens) -> "QMP input must be a JSON object", return
    //   '[' + '1,' x 1048575 + '1]'   (the ']' is token 2097153) -> "JSON token count limit exceeded", return
    //   '[' + '1,' x 1048575 + '1,2]' -> count error, "QMP input must be a JSON object" (2),
    //                                    "expecting value" (']'), return
    // So a message may have exactly 2 << 20 tokens.
    @Test func tokenCountAtAndPastTheEdge() {
        let n = 1_048_575
        let ok = "[" + String(repeating: "1,", count: n - 1) + "1]"
        #expect(qmpReplies(ok + good) == ["QMP input must be a JSON object", #"ok "ok""#])
        let exactly = "[" + String(repeating: "1,", count: n) + "]"  // 2097152 tokens, ends in ",]"
        #expect(qmpReplies(exactly + good) == ["JSON parse error, expecting value", #"ok "ok""#])
        let over = "[" + String(repeating: "1,", count: n) + "1]"
        #expect(qmpReplies(over + good) == ["JSON token count limit exceeded", #"ok "ok""#])
        let over2 = "[" + String(repeating: "1,", count: n) + "1,2]"
        #expect(qmpReplies(over2 + good) == ["JSON token count limit exceeded", "QMP input must be a JSON object", "JSON parse error, expecting value", #"ok "ok""#])
    }

    @Test func tokenCountWithASmallLimit() {
        #expect(errors(parseAll("[1,2,3]", limits: JSONLimits(maxTokenCount: 7))) == [nil])
        #expect(errors(parseAll("[1,2,3,4]", limits: JSONLimits(maxTokenCount: 7))).first == "JSON token count limit exceeded")
    }

    // Not run against QEMU (64 MiB at QEMU's 350 KB/s is minutes); the rule is
    // json-streamer.c's `token_size + len + 1 > MAX_TOKEN_SIZE`, and json-lexer.c
    // cutting a single token longer than MAX_TOKEN_SIZE.
    @Test func tokenBytesAtAndPastTheEdge() {
        let limits = JSONLimits(maxTokenBytes: 20)
        // Tokens of [ "aaaaaaaaaaaaaaa" ] : 1 + 17 + 1 = 19 bytes; 19 + 1 <= 20 passes.
        #expect(errors(parseAll(#"["aaaaaaaaaaaaaaa"]"#, limits: limits)) == [nil])
        // One more byte: the closing ']' makes 20 + 1 > 20, and the message is dropped there.
        #expect(errors(parseAll(#"["aaaaaaaaaaaaaaaa"]"#, limits: limits)) == ["JSON token size limit exceeded"])
        // Two more: the string itself (1 + 19 + 1 > 20); the ']' is then a message of its own.
        #expect(errors(parseAll(#"["aaaaaaaaaaaaaaaaa"]"#, limits: limits)) == ["JSON token size limit exceeded", "JSON parse error, expecting value"])
    }

    @Test func oneHugeTokenIsCutByTheLexer() {
        let limits = JSONLimits(maxTokenBytes: 50)
        // The string token passes 50 bytes inside the lexer: the message is
        // dropped and lexing restarts in the middle of the string.
        let big = "[\"" + String(repeating: "x", count: 100) + "\"]" + good
        let replies = qmpReplies(big, limits: limits)
        #expect(replies.first == "JSON token size limit exceeded")
        #expect(replies == qmpReplies(big, limits: limits, chunk: 7))
        #expect(parseAll(String(repeating: "x", count: 10), limits: JSONLimits(maxTokenBytes: 4)).count == 2)
    }

    @Test func fastPathNeverHidesALimit() {
        // Short enough for the fast path, but past these limits: the QEMU path answers.
        #expect(errors(parseAll(#"{"a": [[[1]]]}"#, limits: JSONLimits(maxNesting: 3))).first == "JSON nesting depth limit exceeded")
        #expect(errors(parseAll(#"{"a": 1}"#, limits: JSONLimits(maxTokenCount: 4))).first == "JSON token count limit exceeded")
        #expect(errors(parseAll(#"{"a": 1}"#, limits: JSONLimits(maxTokenBytes: 5))).first == "JSON token size limit exceeded")
    }
}
