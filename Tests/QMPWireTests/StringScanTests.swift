import QMPWire
import Testing

/// Strings decoded by the eight-bytes-at-a-time scan: whatever byte needs
/// attention, at whatever place in a word, gives the same string as before.
/// Fed one byte at a time the string is one token of the push parser
/// (`JSONLiteral.string`); fed whole, the direct parser takes it.
struct StringScanTests {
    /// (token body, expected value): an escape, a two-byte character, the
    /// other quote, and DEL, each of which the scan stops at or steps over.
    static let specials: [(raw: String, quote: Character, value: String)] = [
        (#"\n"#, "\"", "\n"),
        ("é", "\"", "é"),
        ("'", "\"", "'"),
        ("\"", "'", "\""),
        ("\u{7F}", "\"", "\u{7F}"),
        (#"\\"#, "'", "\\"),
    ]

    @Test(arguments: 0..<20)
    func specialByteAtEveryOffset(_ offset: Int) {
        for special in Self.specials {
            let before = String(repeating: "a", count: offset)
            let after = String(repeating: "b", count: 19 - offset)
            let text = "\(special.quote)\(before)\(special.raw)\(after)\(special.quote)"
            let expected: [Result<JSONValue, JSONParseError>] = [.success(.string(before + special.value + after))]
            for chunk in [nil, 1, 7] as [Int?] {
                let got = parseAll(text, chunk: chunk)
                #expect(got.count == 1 && got.first.flatMap { try? $0.get() } == .string(before + special.value + after),
                        "\(text) in chunks of \(chunk.map(String.init) ?? "all"): \(got), expected \(expected)")
            }
        }
    }

    /// The lexer marks each string token plain or not on its own: an escaped
    /// or non-ASCII string next to plain ones, keys included, in one message.
    @Test func plainAndEscapedStringsInOneMessage() {
        let text = #"{"k\u0041": ["plain one", "esc\"aped", "caf\#u{e9}", 'single "q"', "plain two"], "key": "v"}"#
        let expected: JSONValue = .object(["kA": .array([.string("plain one"), .string("esc\"aped"), .string("caf\u{e9}"),
                                                         .string("single \"q\""), .string("plain two")]),
                                           "key": .string("v")])
        for chunk in [nil, 1, 3, 7] as [Int?] {
            let got = parseAll(text, chunk: chunk)
            #expect(got.count == 1 && got.first.flatMap { try? $0.get() } == expected, "chunks of \(chunk.map(String.init) ?? "all"): \(got)")
        }
    }

    /// A long plain string split across feeds, as a large argument arrives.
    @Test func longPlainStringAcrossFeeds() {
        let body = String(repeating: "abcdefgh", count: 10_000) + "xyz"
        for chunk in [nil, 4096, 65_536] as [Int?] {
            let got = parseAll("\"\(body)\"", chunk: chunk)
            #expect(got.count == 1 && got.first.flatMap { try? $0.get() } == .string(body))
        }
    }
}
