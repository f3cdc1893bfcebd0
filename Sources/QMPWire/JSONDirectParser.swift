/// The fast path of `JSONStreamParser`: one pass over the caller's bytes for
/// the messages clients really send (`{"execute": "query-status", "id": 1}`),
/// with no token list and no copy.
///
/// It only accepts what QEMU's lexer, streamer and parser would turn into the
/// very same value at the very same end: an object or array, complete in the
/// buffer, of double-quoted ASCII strings without escapes, integers that fit
/// in `Int64`, `true`/`false`/`null`, no duplicate keys, shallow, and short
/// enough that no `JSONLimits` can apply. Anything else (an error, an escape,
/// a float, input that ends mid-message...) makes it give up with `nil`, and
/// the stream parser lexes the same bytes the QEMU way. So the fast path
/// changes speed, never behaviour.
struct JSONDirectParser {
    /// Deeper messages take the QEMU path (this bounds the recursion too).
    static let maxDepth = 32

    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int
    let maxDepth: Int
    /// Where the message's own `arguments` member (an object) is in `bytes`.
    var arguments: Range<Int>?

    /// Parses the message starting at `start` (a `{` or `[`); on success
    /// returns the value, the index just past its closing bracket, and
    /// where its `arguments` object is, if it has one.
    static func parseMessage(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, limits: JSONLimits) -> (JSONValue, Int, Range<Int>?)? {
        var parser = JSONDirectParser(bytes: bytes, index: start, maxDepth: min(maxDepth, limits.maxNesting))
        guard let value = parser.parseContainer(depth: 1) else { return nil }
        // With every token at least one byte, these bound QEMU's token count and size.
        let length = parser.index - start
        guard length + 1 <= limits.maxTokenBytes && length <= limits.maxTokenCount else { return nil }
        return (value, parser.index, parser.arguments)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < bytes.count {
            let c = bytes[index]
            guard c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\t") else { return }
            index += 1
        }
    }

    /// The next non-blank byte, not consumed; nil at the end of the buffer.
    @inline(__always)
    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    private mutating func parseContainer(depth: Int) -> JSONValue? {
        guard depth <= maxDepth else { return nil }
        if bytes[index] == UInt8(ascii: "{") {
            index += 1
            return parseObject(depth: depth)
        }
        index += 1
        return parseArray(depth: depth)
    }

    private mutating func parseObject(depth: Int) -> JSONValue? {
        var keys = DuplicateKeyCheck()
        guard let first = peek() else { return nil }
        if first == UInt8(ascii: "}") {
            index += 1
            // `{}` keeps no storage: a host keeps many (each VM's devices
            // realized without properties), and 4 members reserved were
            // 192 bytes each.
            return .object(JSONObject())
        }
        var object = JSONObject(minimumCapacity: 4)
        while true {
            guard peek() == UInt8(ascii: "\""), let key = parseString() else { return nil }
            guard peek() == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            let valueStart = index
            guard let value = parseValue(depth: depth) else { return nil }
            if depth == 1, case .object = value, key == "arguments" { arguments = valueStart..<index }
            guard keys.isNew(key, in: object) else { return nil }
            object.appendUnchecked(key, value)
            guard let next = peek() else { return nil }
            index += 1
            if next == UInt8(ascii: "}") { return .object(object) }
            guard next == UInt8(ascii: ",") else { return nil }
        }
    }

    private mutating func parseArray(depth: Int) -> JSONValue? {
        var elements: [JSONValue] = []
        guard let first = peek() else { return nil }
        if first == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            guard let value = parseValue(depth: depth) else { return nil }
            elements.append(value)
            guard let next = peek() else { return nil }
            index += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { return nil }
        }
    }

    private mutating func parseValue(depth: Int) -> JSONValue? {
        guard let c = peek() else { return nil }
        switch c {
        case UInt8(ascii: "\""):
            guard let s = parseString() else { return nil }
            return .string(s)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return parseContainer(depth: depth + 1)
        case UInt8(ascii: "t"): return keyword("true", .bool(true))
        case UInt8(ascii: "f"): return keyword("false", .bool(false))
        case UInt8(ascii: "n"): return keyword("null", .null)
        default:
            return parseInteger()
        }
    }

    /// `"` plain ASCII `"`: no escape, no control byte, nothing past 0x7F.
    @inline(__always)
    private mutating func parseString() -> String? {
        let start = index + 1
        var j = PlainTextScan.plainRunEnd(bytes, from: start, to: bytes.count, quote: UInt8(ascii: "\""))
        while j < bytes.count {
            let c = bytes[j]
            if c == UInt8(ascii: "\"") {
                index = j + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)
            }
            guard c >= 0x20 && c < 0x80 && c != UInt8(ascii: "\\") else { return nil }
            j += 1
        }
        return nil
    }

    /// The keyword must end where QEMU's keyword token ends: at a byte that is
    /// not a lowercase letter (`truex` is one invalid keyword to QEMU).
    @inline(__always)
    private mutating func keyword(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard index + count < bytes.count else { return nil }
        let w = word.utf8Start
        for k in 0..<count where bytes[index + k] != w[k] { return nil }
        guard !JSONLexer.isLowercase(bytes[index + count]) else { return nil }
        index += count
        return value
    }

    /// `-?(0|[1-9][0-9]*)` fitting in Int64, followed by a byte that ends
    /// QEMU's integer token without making it a float or an error.
    @inline(__always)
    private mutating func parseInteger() -> JSONValue? {
        guard let (value, end) = QMPRequestScanner.integer(bytes, at: index, negativeZero: true) else { return nil }
        index = end
        return .int(value)
    }
}
