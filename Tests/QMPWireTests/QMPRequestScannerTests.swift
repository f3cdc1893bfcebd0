import QMPWire
import Testing

/// `QMPRequestScanner`: each shape it recognises, each it leaves to the
/// full parser, and random and mutated requests against the full parser
/// (`ScannerOracle`, the same check as `Fuzz/ScannerFuzz.swift`).
struct QMPRequestScannerTests {
    static let limits = JSONLimits.qemu

    /// What the scanner makes of `text` at its first byte: (name, id bytes,
    /// arguments bytes, end), or nil when it does not recognise it.
    static func scan(_ text: String, limits: JSONLimits = limits) -> (String, String?, String?, Int)? {
        Array(text.utf8).withUnsafeBufferPointer { buffer in
            QMPRequestScanner.scan(buffer, at: 0, limits: limits).map { scanned in
                (scanned.name, scanned.idBytes.map { String(decoding: $0, as: UTF8.self) },
                 scanned.arguments.map { String(decoding: buffer[$0], as: UTF8.self) }, scanned.end)
            }
        }
    }

    static func agrees(_ text: String, limits: JSONLimits = limits) -> Bool {
        let problem = ScannerOracle.disagreement(Array(text.utf8), limits: limits, cut: text.utf8.count / 2)
        if let problem { Issue.record("\(text): \(problem)") }
        return problem == nil
    }

    // MARK: Recognised

    @Test(arguments: [
        (#"{"execute": "query-status"}"#, "query-status", nil, nil),
        (#"{"execute":"query-status","id":1}"#, "query-status", "1", nil),
        (#"{"execute": "stop", "id": -42}"#, "stop", "-42", nil),
        (#"{"execute": "stop", "id": 0}"#, "stop", "0", nil),
        (#"{"execute": "stop", "id": 123456789012345678}"#, "stop", "123456789012345678", nil),
        (#"{"execute": "stop", "id": "libvirt-17"}"#, "stop", #""libvirt-17""#, nil),
        (#"{"execute": "stop", "id": "a/b ~{}[],:'"}"#, "stop", #""a/b ~{}[],:'""#, nil),
        (#"{"execute": "stop", "id": ""}"#, "stop", #""""#, nil),
        (#"{"execute": "query-status", "arguments": {}}"#, "query-status", nil, "{}"),
        ("{\"execute\": \"query-status\", \"arguments\": { \t }, \"id\": 3}", "query-status", "3", "{ \t }"),
        (#"{"execute": ""}"#, "", nil, nil),
        (#"{"execute": "no-such-command"}"#, "no-such-command", nil, nil),
        ("{\r\n\t\"execute\"\t:\n\"cont\" ,\r\"id\" : 5 \n}", "cont", "5", nil),
        // Around the one-line start (`{"execute": "` or `{"execute":"`,
        // then the member loop): its shortest inputs, other blanks, and
        // members after it.
        (#"{"execute":"a"}"#, "a", nil, nil), (#"{"execute": "a"}"#, "a", nil, nil),
        (#"{"execute":"ab"}"#, "ab", nil, nil), (#"{"execute":  "stop"}"#, "stop", nil, nil),
        ("{\"execute\":\t\"stop\"}", "stop", nil, nil), (#"{"execute" : "stop"}"#, "stop", nil, nil),
        (#"{"execute":"stop" ,"id":"x"}"#, "stop", #""x""#, nil),
        (#"{"execute": "query-status","arguments":{},"id":7}"#, "query-status", "7", "{}"),
    ] as [(String, String, String?, String?)])
    func recognisesTheCommonShapes(text: String, name: String, id: String?, arguments: String?) throws {
        let scanned = try #require(Self.scan(text))
        #expect(scanned.0 == name)
        #expect(scanned.1 == id)
        #expect(scanned.2 == arguments)
        #expect(scanned.3 == text.utf8.count)
        #expect(Self.agrees(text))
    }

    @Test func recognisesTheMembersInAnyOrder() throws {
        let members = [#""execute": "query-status""#, #""id": "x-1""#, #""arguments": {}"#]
        for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let text = "{" + order.map { members[$0] }.joined(separator: ", ") + "}"
            let scanned = try #require(Self.scan(text), "\(text)")
            #expect(scanned.0 == "query-status" && scanned.1 == #""x-1""# && scanned.2 == "{}")
            #expect(Self.agrees(text))
        }
    }

    @Test func endsAtTheClosingBraceOfTheFirstRequest() throws {
        let text = #"{"execute": "stop"}{"execute": "cont"} "#
        #expect(try #require(Self.scan(text)).3 == 19)
        #expect(Self.agrees(text))
    }

    // MARK: Left to the full parser

    @Test(arguments: [
        // Escapes and bytes past ASCII, in the name, a key or the id.
        #"{"execute": "query\u002dstatus"}"#, #"{"exec\u0075te": "stop"}"#, #"{"execute": "stop", "id": "a\"b"}"#,
        #"{"execute": "stop", "id": "a\\b"}"#, #"{"execute": "stop", "id": "a\u0041"}"#, "{\"execute\": \"st\u{e9}p\"}",
        "{\"execute\": \"stop\", \"id\": \"\u{e9}\"}", "{\"execute\": \"stop\", \"id\": \"a\u{7f}b\"}",
        "{\"execute\": \"st\top\"}", "{\"execute\": \"st\nop\"}",
        // Single quotes (QEMU reads them; the scanner leaves them).
        #"{'execute': 'stop'}"#, #"{"execute": 'stop'}"#, #"{"execute": "stop", "id": 'x'}"#,
        // Ids QEMU does not echo as sent, or that are not numbers or strings.
        #"{"execute": "stop", "id": 1.0}"#, #"{"execute": "stop", "id": 1e3}"#, #"{"execute": "stop", "id": 1E3}"#,
        #"{"execute": "stop", "id": -0}"#, #"{"execute": "stop", "id": 007}"#, #"{"execute": "stop", "id": -}"#,
        #"{"execute": "stop", "id": 1234567890123456789}"#, #"{"execute": "stop", "id": 18446744073709551616}"#,
        #"{"execute": "stop", "id": null}"#, #"{"execute": "stop", "id": true}"#, #"{"execute": "stop", "id": [1]}"#,
        #"{"execute": "stop", "id": {}}"#, #"{"execute": "stop", "id": 1x}"#,
        // Duplicates, other members, exec-oob.
        #"{"execute": "stop", "execute": "cont"}"#, #"{"execute": "stop", "id": 1, "id": 2}"#,
        #"{"execute": "stop", "arguments": {}, "arguments": {}}"#, #"{"execute": "stop", "control": {}}"#,
        #"{"exec-oob": "yank", "id": 1}"#, #"{"execute": "stop", "exec-oob": "yank"}"#,
        // Keys that only begin or end like the three (the scanner compares words).
        #"{"executeX": "stop"}"#, #"{"execut": "stop"}"#, #"{"execute": "stop", "ids": 1}"#, #"{"execute": "stop", "i": 1}"#,
        #"{"execute": "stop", "argumentsX": {}}"#, #"{"execute": "stop", "argumentz": {}}"#, #"{"xexecute": "stop"}"#,
        // Arguments that are not the empty object; nesting.
        #"{"execute": "stop", "arguments": {"a": 1}}"#, #"{"execute": "stop", "arguments": []}"#,
        #"{"execute": "stop", "arguments": null}"#, #"{"execute": "stop", "arguments": {{}}}"#,
        // Not a request: no execute, a wrong type, not an object.
        #"{"id": 1}"#, "{}", #"{"execute": 1}"#, #"{"execute": null}"#, #"["execute", "stop"]"#,
        // Malformed: trailing comma, missing colon, stray bytes.
        #"{"execute": "stop",}"#, #"{"execute" "stop"}"#, #"{"execute": "stop" x}"#, #"{,"execute": "stop"}"#,
        // The one-line start, then something it must not take.
        #"{"execute":"st\u006fp"}"#, #"{"execute":"stop","execute":"cont"}"#, #"{"execute":"stop","id":1,"execute":"x"}"#,
        #"{"execute":"stop"]"#, #"{"execute": "stop"x}"#, #"{"execute":"stop",}"#, #"{"execute": 'stop'}"#,
        "{\"execute\": \"st\u{e9}p\"}", #"{"execute":"stop""#,
    ])
    func leavesEverythingElseToTheFullParser(text: String) {
        #expect(Self.scan(text) == nil, "\(text)")
        #expect(Self.agrees(text))
    }

    @Test func leavesAnIncompleteRequestToTheFullParser() {
        let text = #"{"execute": "query-status", "arguments": { }, "id": 123}"#
        for length in 0..<text.utf8.count {
            let prefix = String(decoding: Array(text.utf8)[..<length], as: UTF8.self)
            #expect(Self.scan(prefix) == nil, "\(prefix)")
        }
        #expect(Self.scan(text) != nil)
    }

    @Test func leavesARequestPastALimitToTheFullParser() {
        let arguments = #"{"execute": "stop", "arguments": {}}"#
        #expect(Self.scan(arguments, limits: JSONLimits(maxNesting: 1)) == nil)
        #expect(Self.agrees(arguments, limits: JSONLimits(maxNesting: 1)))
        #expect(Self.scan(#"{"execute": "stop"}"#, limits: JSONLimits(maxNesting: 1)) != nil)
        #expect(Self.scan(#"{"execute": "stop"}"#, limits: JSONLimits(maxNesting: 0)) == nil)
        let request = #"{"execute": "stop", "id": 1}"#
        #expect(Self.scan(request, limits: JSONLimits(maxTokenBytes: request.utf8.count)) == nil)
        #expect(Self.agrees(request, limits: JSONLimits(maxTokenBytes: request.utf8.count)))
        #expect(Self.scan(request, limits: JSONLimits(maxTokenBytes: request.utf8.count + 1)) != nil)
        #expect(Self.scan(request, limits: JSONLimits(maxTokenCount: 5)) == nil)
        #expect(Self.agrees(request, limits: JSONLimits(maxTokenCount: 5)))
    }

    // MARK: In a stream

    @Test func aStreamReadsTheSameRequestsScanningOrNot() {
        let text = #"{"execute": "qmp_capabilities"} {"execute": "query-status", "id": 1}"#
            + #"{"execute": "stop", "arguments": {"a": [1]}, "id": "x"}{"execute": "stop", "id": 1.5}"#
            + "}{\"execute\": \"cont\", \"arguments\": { }}\n{\"execute\": \"st\\u006fp\"}"
            + #"{"exec-oob": "yank", "id": 9}{"execute": "query-status", "id": "a"}"#
        #expect(Self.agrees(text))
        for cut in 0...text.utf8.count {
            #expect(ScannerOracle.disagreement(Array(text.utf8), limits: Self.limits, cut: cut) == nil, "cut \(cut)")
        }
    }

    @Test func aStreamStopsAfterTheRequestThatSaysStop() {
        let text = Array(#"{"execute": "stop"}{"execute": "cont"}"#.utf8)
        var parser = JSONStreamParser()
        var names: [String] = []
        let used = text.withUnsafeBytes { raw in
            parser.feedRequests(raw, request: { names.append($0.name); return false }, message: { _, _ in true })
        }
        #expect(names == ["stop"] && used == 19)
    }

    // MARK: The name's end

    /// A name is read in one 16-byte step when 16 bytes follow its quote
    /// (`nameClose`), else word by word: every length around 16, with
    /// every kind of byte that is or is not plain at every place, and with
    /// the buffer ending right after the request or well past it, is read
    /// as the full parser reads it.
    @Test func namesOfEveryLengthAndStopAgreeWithTheFullParser() throws {
        let stops: [UInt8] = [0x00, 0x1F, 0x20, 0x22, 0x5C, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        // The one-line start and the member loop's, each with the buffer
        // ending at the request or well past it.
        let heads = [#"{"execute": ""#, #"{"id": 1, "execute": ""#]
        let tails = ["}", "}" + String(repeating: " ", count: 20), #", "arguments": {}}"#]
        let shapes = heads.flatMap { head in tails.map { (head, $0) } }
        for length in 0...20 {
            let name = Array("abcdefghijklmnopqrstu".utf8.prefix(length))
            for (head, tail) in shapes {
                let clean = Array(head.utf8) + name + Array(("\"" + tail).utf8)
                let text = String(decoding: clean, as: UTF8.self)
                #expect(try #require(Self.scan(text)).0 == String(decoding: name, as: UTF8.self), "\(text)")
                #expect(Self.agrees(text))
                for at in name.indices {
                    for stop in stops {
                        var bytes = clean
                        bytes[head.utf8.count + at] = stop
                        if let problem = ScannerOracle.disagreement(bytes, limits: Self.limits, cut: bytes.count / 2) {
                            Issue.record("\(bytes): \(problem)")
                        }
                    }
                }
            }
        }
    }

    // MARK: Random and mutated requests

    /// The fuzz target's check over many requests built and mutated from a
    /// fixed seed (the fuzzer searches further: `Fuzz/run scanner`).
    @Test func randomAndMutatedRequestsAgreeWithTheFullParser() {
        var random = SplitMix64(seed: 20)
        let pieces = [#""execute""#, #""id""#, #""arguments""#, #""exec-oob""#, #""query-status""#, "{}", "{ }", "1", "-0",
                      "0", "1.0", "1e3", "123456789012345678", "1234567890123456789", #""x""#, #""a\u0041""#, #""\u00e9""#,
                      "null", "[]", ":", ",", " ", "\t", "\r\n", "{", "}", "'x'", "\"", "\\"]
        var recognised = 0
        for _ in 0..<20_000 {
            var text: [UInt8]
            if random.next() % 2 == 0 {
                // A well-formed request, members shuffled.
                var members = [#""execute": "query-status""#]
                if random.next() % 2 == 0 { members.append(#""id": "# + pieces[Int(random.next() % UInt64(pieces.count))]) }
                if random.next() % 2 == 0 { members.append(#""arguments": {}"#) }
                members.shuffle(using: &random)
                text = Array(("{" + members.joined(separator: ", ") + "}").utf8)
            } else {
                text = Array(#"{"execute": "query-status", "arguments": {}, "id": 12}"#.utf8)
            }
            // Mutations: replace, insert or delete bytes or pieces.
            for _ in 0..<Int(random.next() % 4) {
                let at = Int(random.next() % UInt64(text.count + 1))
                switch random.next() % 4 {
                case 0: if at < text.count { text[at] = UInt8(truncatingIfNeeded: random.next()) }
                case 1: text.insert(contentsOf: Array(pieces[Int(random.next() % UInt64(pieces.count))].utf8), at: at)
                case 2: if at < text.count { text.remove(at: at) }
                default: text.insert(UInt8(truncatingIfNeeded: random.next() % 128), at: at)
                }
            }
            if text.withUnsafeBufferPointer({ QMPRequestScanner.scan($0, at: 0, limits: Self.limits) }) != nil { recognised += 1 }
            let cut = Int(random.next() % UInt64(text.count + 1))
            if let problem = ScannerOracle.disagreement(text, limits: Self.limits, cut: cut) {
                Issue.record("\(String(decoding: text, as: UTF8.self)): \(problem)")
                return
            }
        }
        // Both kinds were exercised.
        #expect(recognised > 1000 && recognised < 19_000)
    }
}
