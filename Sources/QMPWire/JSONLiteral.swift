/// The values of single tokens, as QEMU's parser makes them
/// (qobject/json-parser.c's `parse_literal`, `parse_keyword` and
/// `parse_string`), with its error texts.
///
/// ```swift
/// JSONLiteral.number(Array("18446744073709551615".utf8), isInteger: true)   // .uint(18446744073709551615)
/// try JSONLiteral.keyword(Array("nul".utf8))   // throws "JSON parse error, invalid keyword 'nul'"
/// ```
///
/// Each takes the token's bytes, which are only valid during the call: the
/// parser decodes a token as soon as the lexer completes it, so no token
/// has to be kept (`JSONTokenParser`).
enum JSONLiteral {
    /// `true`, `false` or `null`; any other run of lowercase letters is QEMU's
    /// "invalid keyword".
    static func keyword(_ b: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        if b.elementsEqual("true".utf8) { return .bool(true) }
        if b.elementsEqual("false".utf8) { return .bool(false) }
        if b.elementsEqual("null".utf8) { return .null }
        throw .parseError(Array("invalid keyword '".utf8) + Array(b) + [UInt8(ascii: "'")])
    }

    /// Integers as int64, then uint64, else double, as QEMU's parse_literal.
    static func number(_ b: UnsafeBufferPointer<UInt8>, isInteger: Bool) -> JSONValue {
        if isInteger {
            let negative = b[0] == UInt8(ascii: "-")
            var magnitude: UInt64 = 0
            var overflow = false
            var i = negative ? 1 : 0
            while i < b.count {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(b[i] &- UInt8(ascii: "0")))
                if o1 || o2 { overflow = true; break }
                magnitude = m2
                i += 1
            }
            if !overflow {
                if negative {
                    if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                    if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
                } else if magnitude <= UInt64(Int64.max) {
                    return .int(Int64(magnitude))
                } else {
                    return .uint(magnitude)
                }
            }
        }
        return .double(Double(String(decoding: b, as: UTF8.self)) ?? .nan)
    }

    /// QEMU's parse_string: escapes, surrogate pairs, and QEMU's rules for
    /// which code points and UTF-8 sequences are valid. `b` is the whole
    /// token, quotes included, as QEMU walks it.
    static func string(_ b: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> String {
        let end = b.count - 1  // the closing quote
        // Fast path: plain ASCII without escapes, eight bytes at a time
        // (a 1 MiB argument spent 42 % of its request in a byte loop here,
        // docs/performance.md). The scan also stops at control bytes and
        // the quote, which this path keeps as they are: step over them.
        var i = PlainTextScan.plainRunEnd(b, from: 1, to: end, quote: b[0])
        while i < end && b[i] != UInt8(ascii: "\\") && b[i] < 0x80 {
            i = PlainTextScan.plainRunEnd(b, from: i + 1, to: end, quote: b[0])
        }
        if i == end { return String(decoding: UnsafeBufferPointer(rebasing: b[1..<end]), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(end)
        out.append(contentsOf: b[1..<i])
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: "\\") {
                let escapeStart = i
                let e = b[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "'"): out.append(UInt8(ascii: "'"))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    // QEMU advances four bytes whether or not they were hex digits.
                    var cp = hex4(b, at: i)
                    i += 4
                    if cp >= 0xD800 && cp <= 0xDBFF && i + 1 < b.count
                        && b[i] == UInt8(ascii: "\\") && b[i + 1] == UInt8(ascii: "u") {
                        let trailing = hex4(b, at: i + 2)
                        if trailing >= 0xDC00 && trailing <= 0xDFFF {
                            cp = 0x10000 + ((cp & 0x3FF) << 10) | (trailing & 0x3FF)
                            i += 6
                        } else {
                            cp = -1
                        }
                    }
                    guard ModifiedUTF8.isValidCodePoint(cp) else {
                        // "%.*s" of the escape: it may run past the closing
                        // quote, up to the token's terminating NUL.
                        throw .parseError(Array(b[escapeStart..<min(i, b.count)]) + Array(" is not a valid Unicode character".utf8))
                    }
                    ModifiedUTF8.append(cp, to: &out)
                default:
                    throw .parseError("invalid escape sequence in string")
                }
            } else if c < 0x80 {
                out.append(c)
                i += 1
            } else {
                let (cp, length) = ModifiedUTF8.codePoint(UnsafeBufferPointer(rebasing: b[..<end]), at: i)
                guard cp >= 0 else { throw .parseError("invalid UTF-8 sequence in string") }
                ModifiedUTF8.append(cp, to: &out)
                i += length
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Four hex digits, or -1 (QEMU's cvt4hex).
    private static func hex4(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        guard i + 4 <= b.count else { return -1 }
        var v = 0
        for k in i..<(i + 4) {
            let c = b[k]
            let d: Int
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = Int(c - UInt8(ascii: "A")) + 10
            default: return -1
            }
            v = v << 4 | d
        }
        return v
    }
}

extension JSONParseError {
    /// QEMU's parse_error: the message is formatted into a 1024-byte
    /// buffer (so cut to 1023 bytes) and prefixed. A long invalid keyword
    /// shows this: QEMU 7.2 answers 1041 characters for one of 2000 letters.
    static let messageBufferSize = 1024

    static func parseError(_ message: [UInt8]) -> JSONParseError {
        JSONParseError("JSON parse error, " + ModifiedUTF8.displayString(message.prefix(messageBufferSize - 1)))
    }

    static func parseError(_ message: String) -> JSONParseError {
        parseError(Array(message.utf8))
    }
}
