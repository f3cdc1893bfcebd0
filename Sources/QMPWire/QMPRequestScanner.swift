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
        var execute = 0..<0
        var hasExecute = false
        var id: Range<Int>?
        var idInteger: Int64 = 0
        var arguments: Range<Int>?
        var i = start &+ 1
        // Just past a member's value: what follows is `,` or `}`.
        var afterValue = false
        if let nameQuote = leadingExecute(p, at: start, n), let name = plainString(bytes, at: nameQuote, allowDelete: true) {
            // The first member read in one line; the loop goes on after it.
            execute = name.text
            hasExecute = true
            i = name.end
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
                    guard !hasExecute, p[i] == UInt8(ascii: "\""),
                          let name = plainString(bytes, at: i, allowDelete: true) else { return nil }
                    execute = name.text
                    hasExecute = true
                    i = name.end
                case .id:
                    guard id == nil else { return nil }
                    if p[i] == UInt8(ascii: "\"") {
                        guard let text = plainString(bytes, at: i, allowDelete: false) else { return nil }
                        id = i..<text.end
                        i = text.end
                    } else {
                        guard let number = integer(bytes, at: i) else { return nil }
                        id = i..<number.end
                        idInteger = number.value
                        i = number.end
                    }
                case .arguments:
                    guard arguments == nil, p[i] == UInt8(ascii: "{") else { return nil }
                    let close = skipBlanks(bytes, from: i &+ 1)
                    guard close < n, p[close] == UInt8(ascii: "}") else { return nil }
                    arguments = i..<(close &+ 1)
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
        // Each token is at least a byte: these bound QEMU's token size and
        // count (as `JSONDirectParser`), and `{}` inside is one level more.
        let length = i &- start
        guard length < limits.maxTokenBytes, length <= limits.maxTokenCount,
              (arguments == nil ? 1 : 2) <= limits.maxNesting else { return nil }
        return ScannedRequest(bytes: bytes, execute: execute, id: id, idInteger: idInteger, arguments: arguments, end: i)
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
