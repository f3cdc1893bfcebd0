#if canImport(Glibc)
import Glibc
#endif

/// Writes JSON exactly as QEMU's qobject/qjson.c does for QMP: `": "` and
/// `", "` separators, object members in QDict order (`QDictOrder`), every
/// non-ASCII or control character as an uppercase `\uXXXX` escape (a
/// surrogate pair beyond the BMP), and doubles as `%.17g`.
///
/// ```swift
/// var w = JSONWriter()
/// w.write(["return": [:], "id": "é"])
/// String(decoding: w.bytes, as: UTF8.self)   // {"return": {}, "id": "\u00E9"}
/// ```
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]
    /// Past this many bytes the writer writes nothing more (the text is
    /// then cut, not valid JSON): for a caller that keeps only a prefix
    /// (the fleet page's 2 KiB of a 150 KB `query-qmp-schema` reply) and
    /// should not pay for the whole.
    public let byteLimit: Int

    public init(reservingCapacity capacity: Int = 256, byteLimit: Int = .max) {
        bytes = []
        bytes.reserveCapacity(min(capacity, byteLimit))
        self.byteLimit = byteLimit
    }

    public mutating func writeRaw(_ raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends a literal as one copy (the generic `Sequence` path costs more
    /// than the bytes for pieces this short).
    @inline(__always)
    private mutating func writeLiteral(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public mutating func write(_ value: JSONValue) {
        guard bytes.count <= byteLimit else { return }
        switch value {
        case .null: writeLiteral("null")
        case .bool(let b): if b { writeLiteral("true") } else { writeLiteral("false") }
        case .int(let i): writeInteger(i)
        case .uint(let u): writeUnsigned(u)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (n, element) in elements.enumerated() {
                if n > 0 { writeLiteral(", ") }
                write(element)
                if bytes.count > byteLimit { return }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            let members = object.members
            if members.count == 1 {
                writeMember(members[0].key, members[0].value)
            } else if members.count > 1 {
                QDictOrder.withWriteOrder(of: object) { order in
                    for (n, index) in order.enumerated() {
                        if n > 0 { writeLiteral(", ") }
                        writeMember(members[index].key, members[index].value)
                        if bytes.count > byteLimit { return }
                    }
                }
            }
            guard bytes.count <= byteLimit else { return }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func writeMember(_ key: String, _ value: JSONValue) {
        writeString(key)
        writeLiteral(": ")
        write(value)
    }

    private mutating func writeInteger(_ i: Int64) {
        if i < 0 {
            bytes.append(UInt8(ascii: "-"))
            writeUnsigned(i == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-i))
        } else {
            writeUnsigned(UInt64(i))
        }
    }

    private mutating func writeUnsigned(_ u: UInt64) {
        if u < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(u))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        var v = u
        withUnsafeMutableBytes(of: &digits) { buffer in
            while v > 0 {
                buffer[19 - n] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                n += 1
            }
            bytes.append(contentsOf: buffer[(20 - n)...])
        }
    }

    /// `%.17g`, as QEMU's json-writer.c (so 0.1 is written 0.10000000000000001,
    /// 1.0 is written 1, and an overflowed 1e400 is written `inf`, not JSON).
    private mutating func writeDouble(_ d: Double) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { buffer in
            let n = withVaList([d]) { vsnprintf(buffer.baseAddress, 40, "%.17g", $0) }
            let length = Int(max(0, min(n, 39)))
            buffer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: length) {
                bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private mutating func writeEscape(_ unit: Int) {
        writeLiteral("\\u")
        for shift in stride(from: 12, through: 0, by: -4) {
            bytes.append(Self.hexDigits[(unit >> shift) & 0xF])
        }
    }

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Fast path: printable ASCII needing no escape, copied from the
        // buffer it was checked in (appending the `utf8` view went through
        // the generic sequence path: 185 instructions a string, most of the
        // cost of a short key).
        let plain = s.utf8.withContiguousStorageIfAvailable { buffer in
            guard buffer.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain != true {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": writeLiteral("\\\"")
                case "\\": writeLiteral("\\\\")
                case "\u{08}": writeLiteral("\\b")
                case "\u{0C}": writeLiteral("\\f")
                case "\n": writeLiteral("\\n")
                case "\r": writeLiteral("\\r")
                case "\t": writeLiteral("\\t")
                default:
                    let cp = Int(scalar.value)
                    if cp > 0xFFFF {
                        writeEscape(0xD800 + ((cp - 0x10000) >> 10))
                        writeEscape(0xDC00 + ((cp - 0x10000) & 0x3FF))
                    } else if cp < 0x20 || cp >= 0x7F {
                        writeEscape(cp)
                    } else {
                        bytes.append(UInt8(cp))
                    }
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// The value as QEMU would write it, without a line end.
    public var jsonText: String { String(decoding: jsonBytes(), as: UTF8.self) }

    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// The first bytes of the value's text: all of it when it is at most
    /// `limit` bytes, else more than `limit` and much less than the whole.
    public func jsonPrefix(atMost limit: Int) -> String {
        var writer = JSONWriter(byteLimit: limit)
        writer.write(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Parses one complete JSON document (plugin replies, config, tests).
    /// Unlike the stream parser, trailing input other than whitespace is an error.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONParseError) {
        var parser = JSONStreamParser()
        var results: [Result<JSONValue, JSONParseError>] = []
        let array = Array(bytes)
        parser.feed(array) { results.append($0) }
        // A bare number at the end is only complete when followed by something.
        if results.isEmpty && parser.bufferedByteCount > 0 {
            parser.feed([UInt8(ascii: " ")]) { results.append($0) }
        }
        guard results.count == 1 else {
            if let first = results.first, case .failure(let error) = first { throw error }
            throw JSONParseError(results.isEmpty ? "JSON parse error, premature EOI" : "JSON parse error, trailing data")
        }
        switch results[0] {
        case .success(let value): self = value
        case .failure(let error): throw error
        }
    }

    public init(parsing text: String) throws(JSONParseError) {
        try self.init(parsing: Array(text.utf8))
    }
}
