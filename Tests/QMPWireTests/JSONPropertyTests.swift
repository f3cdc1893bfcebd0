import QMPWire
import Testing

/// Property tests: generated values survive JSONWriter -> parser, and a byte
/// stream parses the same however it is split. A seeded generator (not
/// swift-property-based: adding a package dependency to a test target costs
/// every build a resolution step) keeps each run reproducible; a failure
/// names its seed and case number.
struct JSONPropertyTests {
    /// Cases per property: a few hundred ms together in a debug build.
    static let cases = 400
    static let seeds: [UInt64] = [1, 0x5EED, 0xDEAD_BEEF]

    @Test(arguments: seeds) func writeThenParseGivesTheSameValue(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for n in 0..<Self.cases {
            let value = JSONGenerator.value(depth: 4, using: &rng)
            let text = value.jsonBytes()
            let again = try JSONValue(parsing: text)
            #expect(again.sameNumberAware(value), "seed \(seed) case \(n): \(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test(arguments: seeds) func splittingAtAnyByteChangesNothing(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for n in 0..<(Self.cases / 16) {
            // A few top-level messages, with garbage between some of them
            // so error recovery is split too.
            var stream: [UInt8] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                stream += JSONValue.object(JSONGenerator.object(depth: 3, using: &rng)).jsonBytes()
                if Bool.random(using: &rng) { stream += Array("}] x\n".utf8) }
            }
            let whole = parseAll(stream)
            for cut in 0...stream.count {
                var parser = JSONStreamParser()
                var pieces: [Result<JSONValue, JSONParseError>] = []
                parser.feed(Array(stream[..<cut])) { pieces.append($0) }
                parser.feed(Array(stream[cut...])) { pieces.append($0) }
                if pieces != whole {
                    Issue.record("seed \(seed) case \(n): split at \(cut) of \(String(decoding: stream, as: UTF8.self))")
                    break
                }
            }
            // And one byte at a time.
            #expect(parseAll(stream, chunk: 1) == whole, "seed \(seed) case \(n) bytewise")
        }
    }

    /// The generator reaches what the properties are about: this test fails
    /// if it stops making strings with escapes, deep nesting or every number kind.
    @Test func generatorCoversTheInterestingCases() {
        var rng = SplitMix64(seed: 1)
        var sawControl = false, sawNonASCII = false, sawDouble = false, sawUInt = false, sawDeep = false
        for _ in 0..<Self.cases {
            let text = String(decoding: JSONGenerator.value(depth: 4, using: &rng).jsonBytes(), as: UTF8.self)
            sawControl = sawControl || text.contains("\\u00")
            sawNonASCII = sawNonASCII || text.unicodeScalars.contains { $0.value > 0x7F } || text.contains("\\u")
            sawDouble = sawDouble || text.contains(".") || text.contains("e")
            sawUInt = sawUInt || text.contains("18446744073709551615")
            sawDeep = sawDeep || text.contains("[[[") || text.contains("{\"") && text.contains("[{")
        }
        #expect(sawControl && sawNonASCII && sawDouble && sawUInt && sawDeep)
    }
}

/// Sebastiano Vigna's SplitMix64: tiny, seedable, good enough for test data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSON values the writer must be able to write and read back.
enum JSONGenerator {
    static func value(depth: Int, using rng: inout SplitMix64) -> JSONValue {
        let kinds = depth > 0 ? 8 : 6
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(edgeOrRandomInt(using: &rng))
        case 3: return UInt64.random(in: 0...3, using: &rng) == 0 ? .uint(UInt64.max) : .uint(UInt64(Int64.max) + UInt64.random(in: 1...1000, using: &rng))
        case 4: return .double(finiteDouble(using: &rng))
        case 5: return .string(string(using: &rng))
        case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth: depth - 1, using: &rng) })
        default: return .object(object(depth: depth - 1, using: &rng))
        }
    }

    static func object(depth: Int, using rng: inout SplitMix64) -> JSONObject {
        var members: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let key = string(using: &rng)
            guard keys.insert(key).inserted else { continue }
            members.append((key, value(depth: max(depth, 0), using: &rng)))
        }
        return JSONObject(members)
    }

    static func edgeOrRandomInt(using rng: inout SplitMix64) -> Int64 {
        let edges: [Int64] = [0, -1, 1, Int64.min, Int64.max, Int64(Int32.max) + 1, -9_007_199_254_740_993]
        return Bool.random(using: &rng) ? edges.randomElement(using: &rng)! : Int64.random(in: .min ... .max, using: &rng)
    }

    static func finiteDouble(using rng: inout SplitMix64) -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return [0.5, -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1e21, -2.5e-10].randomElement(using: &rng)!
        case 1: return Double.random(in: -1e6...1e6, using: &rng)
        default:
            // Any finite bit pattern.
            let d = Double(bitPattern: rng.next())
            return d.isFinite ? d : 1.25
        }
    }

    static func string(using rng: inout SplitMix64) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let value: UInt32
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: value = UInt32.random(in: 0...0x1F, using: &rng)          // control: \uXXXX
            case 1: value = [0x22, 0x5C, 0x2F, 0x7F].randomElement(using: &rng)! // " \ / DEL
            case 2: value = UInt32.random(in: 0x80...0xD7FF, using: &rng)
            case 3: value = UInt32.random(in: 0x10000...0x10FFFF, using: &rng)   // surrogate pairs
            default: value = UInt32.random(in: 0x20...0x7E, using: &rng)
            }
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        return String(scalars)
    }
}

extension JSONValue {
    /// Equal (members in any order), with numbers compared by value: QEMU's %.17g writes 1.0 as
    /// `1`, which reads back as an integer (as it does in QEMU).
    func sameNumberAware(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.sameNumberAware($1) }
        case (.object(let a), .object(let b)):
            // Member order is QEMU's QDict hash order after parsing, not the written order.
            return a.count == b.count && a.members.allSatisfy { m in b[m.key].map { m.value.sameNumberAware($0) } ?? false }
        case (.double(let d), _), (_, .double(let d)):
            guard let x = self.doubleValue, let y = other.doubleValue else { return false }
            return x == y || (x.isNaN && y.isNaN) || (d == 0 && x == y)
        default:
            return self == other
        }
    }
}
