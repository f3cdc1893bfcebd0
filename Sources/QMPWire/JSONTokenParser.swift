/// QEMU's JSON parser (qobject/json-parser.c) over one message's tokens,
/// with its error texts ("JSON parse error, expecting value", ...). The
/// first error wins, as in QEMU.
struct JSONTokenParser {
    let source: JSONTokenSource
    let tokens: [JSONToken]
    var index = 0

    init(source: JSONTokenSource, tokens: [JSONToken]) {
        self.source = source
        self.tokens = tokens
    }

    mutating func parse() -> Result<JSONValue, JSONParseError> {
        do {
            return .success(try parseValue())
        } catch {
            return .failure(error)
        }
    }

    /// QEMU's parse_error: the message is formatted into a 1024-byte
    /// buffer (so cut to 1023 bytes) and prefixed. A long invalid keyword
    /// shows this: QEMU 7.2 answers 1041 characters for one of 2000 letters.
    static let messageBufferSize = 1024

    private func fail(_ message: [UInt8]) -> JSONParseError {
        JSONParseError("JSON parse error, " + ModifiedUTF8.displayString(message.prefix(Self.messageBufferSize - 1)))
    }

    private func fail(_ message: String) -> JSONParseError {
        fail(Array(message.utf8))
    }

    private mutating func pop() throws(JSONParseError) -> JSONToken {
        guard index < tokens.count else { throw fail("premature EOI") }
        defer { index += 1 }
        return tokens[index]
    }

    private func peek() throws(JSONParseError) -> JSONToken {
        guard index < tokens.count else { throw fail("premature EOI") }
        return tokens[index]
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        let token = try peek()
        switch token.type {
        case .lcurly: return try parseObject()
        case .lsquare: return try parseArray()
        case .integer, .float:
            index += 1
            return parseNumber(token)
        case .string:
            index += 1
            return .string(try parseString(token))
        case .keyword:
            index += 1
            return try parseKeyword(token)
        default:
            throw fail("expecting value")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        index += 1  // {
        var object = JSONObject(minimumCapacity: 4)
        if try peek().type == .rcurly {
            index += 1
            return .object(object)
        }
        var keys = DuplicateKeyCheck()
        try parsePair(into: &object, keys: &keys)
        var token = try pop()
        while token.type != .rcurly {
            guard token.type == .comma else { throw fail("expected separator in dict") }
            try parsePair(into: &object, keys: &keys)
            token = try pop()
        }
        return .object(object)
    }

    private mutating func parsePair(into object: inout JSONObject, keys: inout DuplicateKeyCheck) throws(JSONParseError) {
        _ = try peek()
        guard case .string(let key) = try parseValue() else { throw fail("key is not a string in object") }
        guard try pop().type == .colon else { throw fail("missing : in object pair") }
        let value = try parseValue()
        guard keys.isNew(key, in: object) else { throw fail("duplicate key") }
        object.appendUnchecked(key, value)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        index += 1  // [
        var elements: [JSONValue] = []
        if try peek().type == .rsquare {
            index += 1
            return .array(elements)
        }
        elements.append(try parseValue())
        var token = try pop()
        while token.type != .rsquare {
            guard token.type == .comma else { throw fail("expected separator in list") }
            elements.append(try parseValue())
            token = try pop()
        }
        return .array(elements)
    }

    private func parseKeyword(_ token: JSONToken) throws(JSONParseError) -> JSONValue {
        let b = source.bytes(token)
        if b.elementsEqual("true".utf8) { return .bool(true) }
        if b.elementsEqual("false".utf8) { return .bool(false) }
        if b.elementsEqual("null".utf8) { return .null }
        throw fail(Array("invalid keyword '".utf8) + Array(b) + [UInt8(ascii: "'")])
    }

    /// Integers as int64, then uint64, else double, as QEMU's parse_literal.
    private func parseNumber(_ token: JSONToken) -> JSONValue {
        let b = source.bytes(token)
        if token.type == .integer {
            let negative = b.first == UInt8(ascii: "-")
            var magnitude: UInt64 = 0
            var overflow = false
            for c in b.dropFirst(negative ? 1 : 0) {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
                if o1 || o2 { overflow = true; break }
                magnitude = m2
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
    private func parseString(_ token: JSONToken) throws(JSONParseError) -> String {
        let b = source.bytes(token)
        let end = b.count - 1  // the closing quote
        // Fast path: plain ASCII without escapes.
        var i = 1
        while i < end && b[i] != UInt8(ascii: "\\") && b[i] < 0x80 { i += 1 }
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
                    var cp = Self.hex4(b, at: i)
                    i += 4
                    if cp >= 0xD800 && cp <= 0xDBFF && i + 1 < b.count
                        && b[i] == UInt8(ascii: "\\") && b[i + 1] == UInt8(ascii: "u") {
                        let trailing = Self.hex4(b, at: i + 2)
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
                        throw fail(Array(b[escapeStart..<min(i, b.count)]) + Array(" is not a valid Unicode character".utf8))
                    }
                    ModifiedUTF8.append(cp, to: &out)
                default:
                    throw fail("invalid escape sequence in string")
                }
            } else if c < 0x80 {
                out.append(c)
                i += 1
            } else {
                let (cp, length) = ModifiedUTF8.codePoint(UnsafeBufferPointer(rebasing: b[..<end]), at: i)
                guard cp >= 0 else { throw fail("invalid UTF-8 sequence in string") }
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
