import QMPWire
import Testing

/// `CanonicalJSON` lets a plugin's reply text into the client's line
/// without a parse. That is only right if every text it accepts is exactly
/// what parsing and writing again would give: these tests hold it to that,
/// on the writer's own output and on mutations of it.
struct CanonicalJSONTests {
    static func accepts(_ text: String) -> Bool { CanonicalJSON(validating: text) != nil }

    /// Parse, then write: the long way a reply took before.
    static func rewritten(_ bytes: [UInt8]) -> [UInt8]? {
        (try? JSONValue(parsing: bytes))?.jsonBytes()
    }

    @Test func writerOutputIsAcceptedAsItIs() {
        let value: JSONValue = [
            "actual": 1_073_741_824, "name": "disk0", "ro": false, "none": nil, "neg": -5,
            "list": [1, "two", [:], [], ["x": "y"]], "text": "é \u{1F600} \"q\" \\ \n\t\u{7F}\u{01}",
        ]
        let text = value.jsonBytes()
        let canonical = text.withUnsafeBytes { CanonicalJSON(validating: $0) }
        #expect(canonical?.bytes == text)
        #expect(canonical?.value == value)
        for scalar: JSONValue in [0, -1, 123_456_789_012_345_678, "s", true, nil, [], [:]] {
            #expect(Self.accepts(scalar.jsonText), "\(scalar.jsonText)")
        }
    }

    /// What a hand-written plugin sends: the same value in another form is
    /// refused (the host then parses and rewrites it), never spliced.
    @Test func otherFormsOfTheSameValueAreRefused() {
        // QDict order of these two keys is "status" before "running" (query-status).
        let refused = [
            #"{"a":1}"#, #"{"a": 1 }"#, #" {"a": 1}"#, #"{"a": 1}  "#, "{\"a\": 1}\n", #"[1,2]"#, #"[1 , 2]"#,
            "\"\u{E9}\"", #""\u00e9""#, #""\/""#, #""\u0041""#, #""\u000A""#, #""\u0022""#, "\"\u{7F}\"", "\"\u{01}\"",
            #""\uD83D""#, #""\uDE00\uD83D""#, #""\uFFFF""#, #""\uFDD0""#,
            "-0", "007", "1.0", "1e3", "12345678901234567890", "+1", "tru", "nul", "", "{", "[1, 2", #"{"a": 1, "a": 2}"#,
            #"{"\u00E9": 1}"#,
        ]
        for text in refused { #expect(!Self.accepts(text), "\(text)") }
        // And a member order that is not QDict's, whichever of the two orders it is.
        let pair: JSONValue = ["status": "running", "running": true]
        let written = pair.jsonText
        let swapped = written == #"{"status": "running", "running": true}"# ? #"{"running": true, "status": "running"}"# : #"{"status": "running", "running": true}"#
        #expect(Self.accepts(written) && !Self.accepts(swapped))
    }

    /// Two keys in one QDict bucket may come in either order (the order is
    /// the reverse of an insertion order the text cannot show), but not twice.
    @Test func keysOfOneBucketInEitherOrderButNotRepeated() throws {
        let (a, b) = try #require(Self.sameBucketKeys())
        #expect(Self.accepts("{\"\(a)\": 1, \"\(b)\": 2}"))
        #expect(Self.accepts("{\"\(b)\": 1, \"\(a)\": 2}"))
        #expect(!Self.accepts("{\"\(a)\": 1, \"\(b)\": 2, \"\(a)\": 3}"))
    }

    /// Two distinct short keys that hash to the same QDict bucket.
    static func sameBucketKeys() -> (String, String)? {
        var seen: [UInt32: String] = [:]
        for n in 0..<2000 {
            let key = "k\(n)"
            let bucket = QDictOrder.bucket(of: key)
            if let other = seen[bucket] { return (other, key) }
            seen[bucket] = key
        }
        return nil
    }

    /// Soundness: whatever the check accepts, parsing and writing again
    /// gives back the very same bytes. Tried on the writer's output for
    /// random values and on random one-byte edits of it.
    @Test(arguments: JSONPropertyTests.seeds) func acceptedTextIsWhatRewritingGives(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let edits: [UInt8] = Array(" \"\\u0Aa,:}]{[-1e.".utf8) + [0x7F, 0xC3, 0xA9, 0x09]
        var accepted = 0
        var editsAccepted = 0
        for n in 0..<JSONPropertyTests.cases {
            let text = JSONGenerator.value(depth: 4, using: &rng).jsonBytes()
            if Self.check(text, "seed \(seed) case \(n)") { accepted += 1 }
            for _ in 0..<8 where !text.isEmpty {
                var edited = text
                let at = Int.random(in: 0..<edited.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: edited[at] = edits.randomElement(using: &rng)!
                case 1: edited.insert(edits.randomElement(using: &rng)!, at: at)
                default: edited.remove(at: at)
                }
                if Self.check(edited, "seed \(seed) case \(n) edit") { editsAccepted += 1 }
            }
        }
        // The generator's doubles and large integers are refused (left to
        // the parser); most of the rest must pass, or the fast path is idle.
        #expect(accepted > JSONPropertyTests.cases / 5)
        #expect(editsAccepted > 0)
    }

    /// True when accepted; records an issue when accepted text is not what rewriting gives.
    static func check(_ text: [UInt8], _ label: String) -> Bool {
        guard let canonical = text.withUnsafeBytes({ CanonicalJSON(validating: $0) }) else { return false }
        #expect(rewritten(text) == canonical.bytes, "\(label): \(String(decoding: text, as: UTF8.self))")
        return true
    }

    @Test func spliceIsTheSameLineAsWritingTheValue() throws {
        let value: JSONValue = ["actual": 1_073_741_824]
        let text = try #require(CanonicalJSON(validating: value.jsonText))
        for id: JSONValue? in [nil, 7, "a"] {
            #expect(QMPMessage.success(encoded: text, id: id) == QMPMessage.success(value, id: id))
        }
        let data = try #require(CanonicalJSON(validating: #"{"actual": 1}"#))
        #expect(QMPMessage.event("BALLOON_CHANGE", encodedData: data, seconds: 1, microseconds: 2)
            == QMPMessage.event("BALLOON_CHANGE", data: ["actual": 1], seconds: 1, microseconds: 2))
    }
}
