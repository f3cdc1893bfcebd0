/// Recognises the requests clients send most, `{"execute": NAME}` with an
/// optional `"id"` and an optional empty `"arguments": {}`, straight in the
/// read buffer: no `JSONValue`, no `JSONObject`, no allocation. A session
/// hands what it recognises to its command table by name
/// (`JSONStreamParser.feedRequests`), where a `query-status` otherwise cost
/// an object of three members, its decode and its copies.
///
/// It recognises only what QEMU 7.2 (and the full parser,
/// `JSONStreamParser` then `QMPRequest.decode`) reads as the same request
/// ending at the same byte, and whose `id` QEMU echoes byte for byte:
/// - members `execute`, `id` and `arguments`, each at most once, in any
///   order, with any JSON whitespace (space, tab, CR, LF) between tokens;
/// - keys and NAME double-quoted ASCII (0x20...0x7F) without escapes;
/// - `id` an integer `-?(0|[1-9][0-9]*)` of at most 18 digits, not `-0`
///   (QEMU echoes `-0` as `0`), or a double-quoted string of bytes
///   0x20...0x7E without `"` or `\` (QEMU writes DEL as `\u007F`). QEMU
///   echoes `1.0` as `1`, `1e3` as `1000`, 20-digit integers as doubles:
///   those, like `null` or a single-quoted string, take the full path;
/// - `arguments` the empty object `{}` (blanks inside allowed);
/// - complete in the buffer, within the message limits.
///
/// Anything else (another member, a duplicate, `exec-oob`, an escape, a
/// byte past 0x7F, nesting, an incomplete message) is "not recognised",
/// `nil`, and the full parser reads the same bytes: every reply and error
/// stays what it was (`QMPRequestScannerTests`, `Fuzz/ScannerFuzz.swift`
/// compare the two on the same input).
public enum QMPRequestScanner {
    /// The request starting at `start` (a `{`), or nil when it is not one
    /// of the shapes above.
    public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, limits: JSONLimits) -> ScannedRequest? {
        guard let p = bytes.baseAddress else { return nil }
        let n = bytes.count
        guard start < n, p[start] == UInt8(ascii: "{") else { return nil }
        // Indices in the buffer; offsets from `start` only in the result.
        var nameStart = 0, nameEnd = 0
        var hasExecute = false
        var idStart = 0, idEnd = 0
        var idInteger: Int64 = 0
        var argumentsStart = 0, argumentsEnd = 0
        var i = start &+ 1
        // Just past a member's value: what follows is `,` or `}`.
        var afterValue = false
        if let nameQuote = leadingExecute(p, at: start, n), let close = nameClose(p, quote: nameQuote, n) {
            // `{"execute": NAME}`, the commonest request of all, ends here.
            if close &+ 1 < n, p[close &+ 1] == UInt8(ascii: "}") {
                return result(p, start, end: close &+ 2, name: (nameQuote &+ 1, close), id: (0, 0), idInteger: 0,
                              arguments: (0, 0), limits)
            }
            // The first member read in one line; the loop goes on after it.
            nameStart = nameQuote &+ 1
            nameEnd = close
            hasExecute = true
            i = close &+ 1
            afterValue = true
        }
        while true {
            if !afterValue {
                i = skipBlanks(bytes, from: i)
                guard i < n, p[i] == UInt8(ascii: "\""), let (member, keyEnd) = Member.at(p, i, n) else { return nil }
                i = skipBlanks(bytes, from: keyEnd)
                guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
                i = skipBlanks(bytes, from: i &+ 1)
                guard i < n else { return nil }
                switch member {
                case .execute:
                    guard !hasExecute, p[i] == UInt8(ascii: "\""), let close = nameClose(p, quote: i, n) else { return nil }
                    nameStart = i &+ 1
                    nameEnd = close
                    hasExecute = true
                    i = close &+ 1
                case .id:
                    guard idEnd == 0 else { return nil }
                    if p[i] == UInt8(ascii: "\"") {
                        guard let text = plainString(bytes, at: i, allowDelete: false) else { return nil }
                        idStart = i
                        idEnd = text.end
                        i = text.end
                    } else {
                        guard let number = integer(bytes, at: i) else { return nil }
                        idStart = i
                        idEnd = number.end
                        idInteger = number.value
                        i = number.end
                    }
                case .arguments:
                    guard argumentsEnd == 0, p[i] == UInt8(ascii: "{") else { return nil }
                    let close = skipBlanks(bytes, from: i &+ 1)
                    guard close < n, p[close] == UInt8(ascii: "}") else { return nil }
                    argumentsStart = i
                    argumentsEnd = close &+ 1
                    i = close &+ 1
                }
            }
            afterValue = false
            i = skipBlanks(bytes, from: i)
            guard i < n else { return nil }
            if p[i] == UInt8(ascii: "}") {
                i &+= 1
                break
            }
            guard p[i] == UInt8(ascii: ",") else { return nil }
            i &+= 1
        }
        guard hasExecute else { return nil }
        return result(p, start, end: i, name: (nameStart, nameEnd), id: (idStart, idEnd), idInteger: idInteger,
                      arguments: (argumentsStart, argumentsEnd), limits)
    }

    /// The request from `start` to `end` with its parts (buffer indices;
    /// an absent part is `(0, 0)`), when it is within the limits. Each
    /// token is at least a byte: the length bounds QEMU's token size and
    /// count (as `JSONDirectParser`), and `{}` inside is one level more.
    /// Within `Int32` too, the result's offsets.
    @inline(__always)
    private static func result(_ p: UnsafePointer<UInt8>, _ start: Int, end: Int, name: (Int, Int), id: (Int, Int), idInteger: Int64,
                               arguments: (Int, Int), _ limits: JSONLimits) -> ScannedRequest? {
        let length = end &- start
        guard length < limits.maxTokenBytes, length <= limits.maxTokenCount, length <= Int(Int32.max),
              (arguments.1 == 0 ? 1 : 2) <= limits.maxNesting else { return nil }
        // Offsets from `start`, each below `length`.
        @inline(__always) func part(_ range: (Int, Int)) -> (offset: Int32, length: Int32) {
            range.1 == 0 ? (0, 0) : (Int32(truncatingIfNeeded: range.0 &- start), Int32(truncatingIfNeeded: range.1 &- range.0))
        }
        return ScannedRequest(base: p, start: start, name: part(name), id: part(id), idInteger: idInteger,
                              arguments: part(arguments), length: Int32(truncatingIfNeeded: length))
    }

    /// The index of the closing quote of the command name whose opening
    /// quote is at `quote`, when every byte between is plain ASCII
    /// (0x20...0x7F) other than `"` and `\`; else nil. A name of up to 15
    /// bytes (nearly every command's) with 16 bytes in the buffer after its
    /// quote is settled by one 16-byte compare, not two 8-byte words'
    /// masks; any other goes to `PlainTextScan` as before.
    @inline(__always)
    static func nameClose(_ p: UnsafePointer<UInt8>, quote: Int, _ n: Int) -> Int? {
        let first = quote &+ 1
        if n &- first >= 16 {
            let chunk = UnsafeRawPointer(p + first).loadUnaligned(as: SIMD16<UInt8>.self)
            // As signed bytes, 0x80...0xFF are negative: one compare finds
            // them and the controls (< 0x20) alike. Vector against vector:
            // against a scalar, each compare was a loop over the lanes.
            let stops = unsafeBitCast(chunk, to: SIMD16<Int8>.self) .< SIMD16<Int8>(repeating: 0x20)
                .| chunk .== SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
                .| chunk .== SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
            let lanes = unsafeBitCast(SIMD16<UInt8>(repeating: 0).replacing(with: 0xFF, where: stops), to: (UInt64, UInt64).self)
            // The first flagged byte is the first one that is not plain.
            let stop: Int
            if lanes.0 != 0 {
                stop = first &+ UInt64(littleEndian: lanes.0).trailingZeroBitCount &>> 3
            } else if lanes.1 != 0 {
                stop = first &+ 8 &+ UInt64(littleEndian: lanes.1).trailingZeroBitCount &>> 3
            } else {
                return plainClose(p, quote: quote, n)
            }
            return p[stop] == UInt8(ascii: "\"") ? stop : nil
        }
        return plainClose(p, quote: quote, n)
    }

    /// `nameClose` the word-at-a-time way (`PlainTextScan`).
    private static func plainClose(_ p: UnsafePointer<UInt8>, quote: Int, _ n: Int) -> Int? {
        plainString(UnsafeBufferPointer(start: p, count: n), at: quote, allowDelete: true).map { $0.end &- 1 }
    }

    /// The index of NAME's opening quote when the request begins
    /// `{"execute": "` or `{"execute":"`, as nearly every client's does
    /// (qemu.qmp, libvirt, qmp-shell): two loads instead of the member
    /// loop's blank skips, key match and colon. Exactly the bytes the loop
    /// reads as the same tokens, so the loop may take it from there.
    @inline(__always)
    static func leadingExecute(_ p: UnsafePointer<UInt8>, at start: Int, _ n: Int) -> Int? {
        // The prefix, a name byte, its closing quote and a `,` or `}`.
        guard n &- start >= 16 else { return nil }
        let raw = UnsafeRawPointer(p + start)
        guard raw.loadUnaligned(as: UInt64.self) == openExecute8 else { return nil }
        let tail = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        if tail == executeColonQuote4 { return start &+ 11 }
        if tail == executeColonSpace4, p[start &+ 12] == UInt8(ascii: "\"") { return start &+ 12 }
        return nil
    }

    /// `leadingExecute`'s words as a load gives them (see `Member`'s).
    private static var openExecute8: UInt64 { UInt64(littleEndian: 0x7475_6365_7865_227B) }       // {"execut
    private static var executeColonQuote4: UInt32 { UInt32(littleEndian: 0x223A_2265) }           // e":"
    private static var executeColonSpace4: UInt32 { UInt32(littleEndian: 0x203A_2265) }           // e":<space>

    /// The three members a recognised request may have.
    private enum Member {
        case execute, id, arguments

        /// `"execute"`, `"id"` or `"arguments"` as whole words at `i` (its
        /// opening quote), and the index past the closing quote; nil for any
        /// other key, which a recognised request cannot have (a key spelt
        /// with an escape, `"exe\u0063ute"`, is the full parser's too).
        /// Compared as one or two loads, not byte by byte: the keys are
        /// where a request's scan spends its first bytes.
        @inline(__always)
        static func at(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (Member, Int)? {
            let raw = UnsafeRawPointer(p + i)
            let left = n - i
            if left >= 9, raw.loadUnaligned(as: UInt64.self) == Self.execute8, p[i + 8] == UInt8(ascii: "\"") {
                return (.execute, i + 9)
            }
            if left >= 4, raw.loadUnaligned(as: UInt32.self) == Self.id4 { return (.id, i + 4) }
            if left >= 11, raw.loadUnaligned(as: UInt64.self) == Self.arguments8,
               raw.loadUnaligned(fromByteOffset: 7, as: UInt32.self) == Self.argumentsTail4 {
                return (.arguments, i + 11)
            }
            return nil
        }

        /// The keys' bytes as a load gives them (written little-endian:
        /// `UInt64(littleEndian:)` makes them the same bytes on any machine).
        private static var execute8: UInt64 { UInt64(littleEndian: 0x6574_7563_6578_6522) }     // "execute
        private static var id4: UInt32 { UInt32(littleEndian: 0x2264_6922) }                    // "id"
        private static var arguments8: UInt64 { UInt64(littleEndian: 0x6e65_6d75_6772_6122) }   // "argumen
        private static var argumentsTail4: UInt32 { UInt32(littleEndian: 0x2273_746e) }         // nts"
    }

    /// QEMU's JSON whitespace: space, tab, CR, LF.
    @inline(__always)
    static func skipBlanks(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            guard c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\t") else { break }
            i += 1
        }
        return i
    }

    /// The string at `start` (its opening `"`): its text's range and the
    /// index past its closing quote, when every byte is plain ASCII
    /// (0x20...0x7F, or ...0x7E without `allowDelete`) other than `"` and `\`.
    @inline(__always)
    static func plainString(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, allowDelete: Bool) -> (text: Range<Int>, end: Int)? {
        let end = PlainTextScan.plainRunEnd(bytes, from: start + 1, to: bytes.count, quote: UInt8(ascii: "\""), stopAtDelete: !allowDelete)
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        return ((start + 1)..<end, end + 1)
    }

    /// `-?(0|[1-9][0-9]*)`, at most 18 digits (so it fits in Int64), ended
    /// by a byte that ends QEMU's integer token without making it a float
    /// or an error (a `.`, `e`, `E` or digit would); `-0` only with
    /// `negativeZero` (QEMU echoes it as `0`, so an id cannot be one; a
    /// value may, `JSONDirectParser`).
    @inline(__always)
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, negativeZero: Bool = false) -> (value: Int64, end: Int)? {
        var j = start
        let negative = bytes[j] == UInt8(ascii: "-")
        if negative { j += 1 }
        let digits = j
        var magnitude: Int64 = 0
        while j < bytes.count, JSONLexer.isDigit(bytes[j]) {
            guard j - digits < 18 else { return nil }
            magnitude = magnitude &* 10 &+ Int64(bytes[j] &- UInt8(ascii: "0"))
            j += 1
        }
        guard j > digits, j < bytes.count else { return nil }
        if bytes[digits] == UInt8(ascii: "0") && (j - digits > 1 || (negative && !negativeZero)) { return nil }
        let next = bytes[j]
        guard next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E") else { return nil }
        return (negative ? -magnitude : magnitude, j)
    }
}
