import QMPWire
import Testing

/// Inputs libFuzzer found (Fuzz/run, Fuzz/ParserFuzz.swift), replayed
/// through the harness's checks. Both were harness bugs, not parser bugs: a
/// huge exponent (`1073e41824`, `6e348`) parses to inf, as in QEMU, and inf
/// is written as `inf`, which is not JSON, so the write/read round trip must
/// skip non-finite values rather than fail on them.
struct FuzzRegressionTests {
    /// The harness's small limits, so the same paths run here.
    static let limits = JSONLimits(maxNesting: 64, maxTokenBytes: 4096, maxTokenCount: 512)

    static let crashes: [[UInt8]] = [
        // crash-0b26975ff82b4513904fa72142d207a516b8cfb2
        [101, 120, 101, 99, 0, 0, 0, 55, 49, 56, 50, 52, 125, 116, 101, 34, 58, 32, 34, 115, 116, 111, 112, 34,
         125, 115, 105, 122, 101, 34, 58, 32, 49, 48, 55, 51, 101, 52, 49, 56, 50, 52, 125, 44, 32, 34, 58, 32,
         39, 120, 39, 44, 32, 105, 100],
        // crash-3929d562f048ed58d6c759a190fdb574ef4dc2f0
        [49, 211, 130, 116, 101, 34, 56, 51, 211, 130, 34, 116, 125, 54, 101, 51, 52, 56, 91, 116, 112, 220, 220, 125, 40],
    ]

    @Test(arguments: crashes) func harnessChecksHold(input: [UInt8]) throws {
        let cut = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
        var whole: [Result<JSONValue, JSONParseError>] = []
        var split: [Result<JSONValue, JSONParseError>] = []
        var a = JSONStreamParser(limits: Self.limits), b = JSONStreamParser(limits: Self.limits)
        a.feed(input) { whole.append($0) }
        b.feed(Array(input[..<cut])) { split.append($0) }
        b.feed(Array(input[cut...])) { split.append($0) }
        #expect(whole == split)
        for case .success(let value) in whole {
            _ = QMPRequest.decode(value, oobEnabled: input.count % 2 == 0)
            let text = value.jsonBytes()
            if case .double(let d) = value, !d.isFinite {
                #expect(String(decoding: text, as: UTF8.self).hasSuffix("inf"))
                continue
            }
            #expect(try JSONValue(parsing: text).sameNumberAware(value))
        }
    }

    @Test func hugeExponentIsInfinityAsInQEMU() throws {
        #expect(try JSONValue(parsing: Array("1073e41824".utf8)) == .double(.infinity))
        #expect(try JSONValue(parsing: Array("-6e348".utf8)) == .double(-.infinity))
    }
}
