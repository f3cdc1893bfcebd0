// libFuzzer target for the QMP input path: the stream parser fed in
// arbitrary pieces, each message decoded as a request and written back.
// Built by Fuzz/run into one binary with ScannerFuzz.swift (WireFuzz.swift
// picks the target), not by SwiftPM.

public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // Small limits so the fuzzer reaches them.
    var parser = JSONStreamParser(limits: JSONLimits(maxNesting: 64, maxTokenBytes: 4096, maxTokenCount: 512))
    // Split at a point chosen by the first byte: splits must not change the result.
    let cut = size == 0 ? 0 : Int(input[0]) % (size + 1)
    var whole: [Result<JSONValue, JSONParseError>] = []
    var split: [Result<JSONValue, JSONParseError>] = []
    parser.feed(input) { whole.append($0) }
    var second = JSONStreamParser(limits: JSONLimits(maxNesting: 64, maxTokenBytes: 4096, maxTokenCount: 512))
    second.feed(UnsafeRawBufferPointer(rebasing: input[..<cut])) { split.append($0) }
    second.feed(UnsafeRawBufferPointer(rebasing: input[cut...])) { split.append($0) }
    if whole != split { fatalError("split at \(cut) changed the messages") }
    for case .success(let value) in whole {
        _ = QMPRequest.decode(value, oobEnabled: size % 2 == 0)
        let text = value.jsonBytes()
        // What we write, we read back as the same value (NaN and inf aside:
        // QEMU writes them as nan/inf, which no JSON parser reads back).
        if value.containsNonFinite { continue }
        guard let again = try? JSONValue(parsing: text), again.isEquivalent(to: value) else {
            fatalError("round trip failed for \(String(decoding: text, as: UTF8.self))")
        }
    }
    return 0
}

extension JSONValue {
    /// Equal, except that a double QEMU's %.17g writes without a fraction
    /// (0.0 -> "0") reads back as an integer, as it does in QEMU.
    func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.members.allSatisfy { m in b[m.key].map { m.value.isEquivalent(to: $0) } ?? false }
        case (.double, _), (_, .double):
            return self.doubleValue != nil && self.doubleValue == other.doubleValue
        default:
            return self == other
        }
    }

    /// NaN never equals itself, and a huge exponent parses to infinity,
    /// which QEMU (and we) write as `inf`, not JSON: such values are
    /// skipped in the round-trip check (the parser is right to accept them).
    var containsNonFinite: Bool {
        switch self {
        case .double(let d): return !d.isFinite
        case .array(let a): return a.contains { $0.containsNonFinite }
        case .object(let o): return o.members.contains { $0.value.containsNonFinite }
        default: return false
        }
    }
}
