/// QEMU's JSON parser (qobject/json-parser.c) over one message's tokens,
/// with its error texts ("JSON parse error, expecting value", ...). The
/// first error wins, as in QEMU.
struct JSONTokenParser {
    let text: UnsafeBufferPointer<UInt8>
    let tokens: [JSONToken]
    var index = 0

    init(text: UnsafeBufferPointer<UInt8>, tokens: [JSONToken]) {
        self.text = text
        self.tokens = tokens
    }

    mutating func parse() -> Result<JSONValue, JSONParseError> {
        do {
            return .success(try parseValue())
        } catch {
            return .failure(error)
        }
    }

    private func fail(_ message: String) -> JSONParseError {
        JSONParseError("JSON parse error, \(message)")
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
        try parsePair(into: &object)
        var token = try pop()
        while token.type != .rcurly {
            guard token.type == .comma else { throw fail("expected separator in dict") }
            try parsePair(into: &object)
            token = try pop()
        }
        return .object(object)
    }

    private mutating func parsePair(into object: inout JSONObject) throws(JSONParseError) {
        _ = try peek()
        guard case .string(let key) = try parseValue() else { throw fail("key is not a string in object") }
        guard try pop().type == .colon else { throw fail("missing : in object pair") }
        let value = try parseValue()
        if object[key] != nil { throw fail("duplicate key") }
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

    private func bytes(_ token: JSONToken) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: text[token.start..<token.end])
    }

    private func parseKeyword(_ token: JSONToken) throws(JSONParseError) -> JSONValue {
        let b = bytes(token)
        if b.elementsEqual("true".utf8) { return .bool(true) }
        if b.elementsEqual("false".utf8) { return .bool(false) }
        if b.elementsEqual("null".utf8) { return .null }
        throw fail("invalid keyword '\(String(decoding: b, as: UTF8.self))'")
    }

    /// Integers as int64, then uint64, else double, as QEMU's parse_literal.
    private func parseNumber(_ token: JSONToken) -> JSONValue {
        let b = bytes(token)
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
    /// which code points and UTF-8 sequences are valid.
    private func parseString(_ token: JSONToken) throws(JSONParseError) -> String {
        let b = bytes(token)
        let quote = b[0]
        let body = UnsafeBufferPointer(rebasing: b[1..<(b.count - 1)])
        // Fast path: plain ASCII without escapes.
        var plain = true
        for c in body where c == UInt8(ascii: "\\") || c >= 0x80 {
            plain = false
            break
        }
        if plain { return String(decoding: body, as: UTF8.self) }
        _ = quote
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = 0
        while i < body.count {
            let c = body[i]
            if c == UInt8(ascii: "\\") {
                let escapeStart = i
                i += 1
                let e = body[i]
                i += 1
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
                    var cp = Self.hex4(body, at: i)
                    i += 4
                    if cp >= 0xD800 && cp <= 0xDBFF && i + 1 < body.count
                        && body[i] == UInt8(ascii: "\\") && body[i + 1] == UInt8(ascii: "u") {
                        let trailing = Self.hex4(body, at: i + 2)
                        if trailing >= 0xDC00 && trailing <= 0xDFFF {
                            cp = 0x10000 + ((cp & 0x3FF) << 10) | (trailing & 0x3FF)
                            i += 6
                        } else {
                            cp = -1
                        }
                    }
                    guard Self.isValidCodePoint(cp) else {
                        let escape = String(decoding: body[escapeStart..<min(i, body.count)], as: UTF8.self)
                        throw fail("\(escape) is not a valid Unicode character")
                    }
                    Self.appendUTF8(cp, to: &out)
                default:
                    throw fail("invalid escape sequence in string")
                }
            } else if c < 0x80 {
                out.append(c)
                i += 1
            } else {
                guard let (cp, length) = Self.decodeUTF8(body, at: i), Self.isValidCodePoint(cp) || cp == 0 else {
                    throw fail("invalid UTF-8 sequence in string")
                }
                Self.appendUTF8(cp, to: &out)
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

    /// QEMU's util/unicode.c: no surrogates, no noncharacters, nothing past U+10FFFF.
    static func isValidCodePoint(_ cp: Int) -> Bool {
        if cp < 0 || cp > 0x10FFFF { return false }
        if (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE { return false }
        if cp >= 0xD800 && cp <= 0xDFFF { return false }
        return true
    }

    /// Decodes one UTF-8 sequence, refusing overlong forms except QEMU's
    /// modified-UTF-8 NUL (C0 80).
    static func decodeUTF8(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (Int, Int)? {
        let c = b[i]
        let length: Int
        var cp: Int
        switch c {
        case 0xC0...0xDF: length = 2; cp = Int(c & 0x1F)
        case 0xE0...0xEF: length = 3; cp = Int(c & 0x0F)
        case 0xF0...0xF7: length = 4; cp = Int(c & 0x07)
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        for k in 1..<length {
            let cc = b[i + k]
            guard cc & 0xC0 == 0x80 else { return nil }
            cp = cp << 6 | Int(cc & 0x3F)
        }
        if length == 2 && cp == 0 { return (0, 2) }
        let minimum = [0, 0, 0x80, 0x800, 0x10000][length]
        guard cp >= minimum else { return nil }
        return (cp, length)
    }

    static func appendUTF8(_ cp: Int, to out: inout [UInt8]) {
        switch cp {
        case 0..<0x80:
            out.append(UInt8(cp))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (cp >> 6)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (cp >> 12)))
            out.append(UInt8(0x80 | ((cp >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (cp >> 18)))
            out.append(UInt8(0x80 | ((cp >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((cp >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        }
    }
}
