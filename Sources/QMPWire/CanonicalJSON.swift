/// JSON text that is already exactly what `JSONWriter` would write for the
/// value it holds, so it can go into a QMP line as it is.
///
/// A plugin answers with JSON text (the C ABI carries text), and a plugin
/// built with QMPPluginKit writes it with this module's `JSONWriter`, so the
/// text is already QEMU's: parsing it into a `JSONValue` and writing that
/// again would give back the same bytes, at the cost of a parse, a tree
/// of allocations and a write (for a 1.4 KB `query-block` reply most of the
/// host's time). `init?(validating:)` proves the text is in that form with
/// one pass that allocates nothing, and keeps the bytes; text in any other
/// form (a hand-written C plugin's spaces, a member order that is not QEMU's,
/// raw non-ASCII, a float) fails it, and the caller parses and rewrites it
/// as before, so a client sees QEMU's form either way.
///
/// "QEMU's form" is `JSONWriter`'s: no whitespace but the `": "` and `", "`
/// separators; object members in QDict order (`QDictOrder`: bucket
/// ascending; within a bucket any order, since it is the reverse of an
/// insertion order the text cannot show), no member twice; strings with
/// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t` and every other control or
/// non-ASCII character as an uppercase `\uXXXX` (a surrogate pair beyond the
/// BMP), nothing else escaped; integers without a sign on zero or leading
/// zeros. What the check leaves to the parser instead (a correct answer
/// either way, only slower): keys with escapes, floats, integers of more than
/// 18 digits, and nesting deeper than `maxDepth`.
///
/// ```swift
/// CanonicalJSON(validating: #"{"status": "running", "running": true}"#)   // nil: not QDict order
/// CanonicalJSON(validating: #"{"actual": 1073741824}"#)?.bytes              // the same bytes
/// ```
public struct CanonicalJSON: Sendable {
    /// The text, in `JSONWriter`'s form.
    public let bytes: [UInt8]

    /// Deeper text is left to the parser (which has its own explicit stack):
    /// the check recurses.
    public static let maxDepth = 64

    /// The writer's text for `value`: for a plugin that keeps the text of
    /// an answer it gives many times (a query whose state rarely changes).
    public init(_ value: JSONValue) {
        bytes = value.jsonBytes()
    }

    /// A copy of `text` when it is one JSON value in `JSONWriter`'s form.
    public init?(validating text: UnsafeRawBufferPointer) {
        guard Self.isCanonical(text) else { return nil }
        bytes = Array(text)
    }

    public init?(validating text: String) {
        var text = text
        guard let copy = text.withUTF8({ Self.isCanonical(UnsafeRawBufferPointer($0)) ? Array($0) : nil }) else { return nil }
        bytes = copy
    }

    /// Whether `text` is one JSON value exactly as `JSONWriter` writes it.
    public static func isCanonical(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress, !text.isEmpty else { return false }
        var scan = CanonicalJSONScan(bytes: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: text.count))
        return scan.value(depth: 0) && scan.index == text.count
    }

    /// The value the text holds, parsed: for whoever needs the value rather
    /// than the text (an internal caller, the fleet page). The text was
    /// checked, so it parses.
    public var value: JSONValue {
        (try? JSONValue(parsing: bytes)) ?? .null
    }
}

/// The one pass of `CanonicalJSON.isCanonical`: a recursive descent that
/// only moves an index.
struct CanonicalJSONScan {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    /// Members of one object that may share a QDict bucket before the check
    /// gives up (each new one is compared with the others).
    static let maxSameBucketRun = 8

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func value(depth: Int) -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "{"): return depth < CanonicalJSON.maxDepth && object(depth: depth + 1)
        case UInt8(ascii: "["): return depth < CanonicalJSON.maxDepth && array(depth: depth + 1)
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return integer()
        }
    }

    private mutating func object(depth: Int) -> Bool {
        index += 1
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return true
        }
        var previousBucket: UInt32 = 0
        var runStart = index
        var runLength = 0
        while true {
            let keyStart = index
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), string() == .plain else { return false }
            let key = UnsafeBufferPointer(rebasing: bytes[(keyStart + 1)..<(index - 1)])
            let bucket = QDictOrder.bucket(ofUTF8: key)
            if runLength > 0 && bucket == previousBucket {
                runLength += 1
                guard runLength <= Self.maxSameBucketRun, !runHolds(key, from: runStart, before: keyStart, depth: depth) else { return false }
            } else {
                guard runLength == 0 || bucket > previousBucket else { return false }
                runStart = keyStart
                runLength = 1
            }
            previousBucket = bucket
            guard separator(UInt8(ascii: ":")), value(depth: depth) else { return false }
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return true
            }
            guard separator(UInt8(ascii: ",")) else { return false }
        }
    }

    /// Whether a member of the same-bucket run that starts at `start` (already
    /// checked) has the key `key`: the parser refuses a repeated key.
    private func runHolds(_ key: UnsafeBufferPointer<UInt8>, from start: Int, before end: Int, depth: Int) -> Bool {
        var walk = CanonicalJSONScan(bytes: bytes)
        walk.index = start
        while walk.index < end {
            let keyStart = walk.index
            _ = walk.string()
            if walk.index - keyStart - 2 == key.count,
               memcmp(bytes.baseAddress! + keyStart + 1, key.baseAddress!, key.count) == 0 {
                return true
            }
            _ = walk.separator(UInt8(ascii: ":"))
            _ = walk.value(depth: depth)
            _ = walk.separator(UInt8(ascii: ","))
        }
        return false
    }

    private mutating func array(depth: Int) -> Bool {
        index += 1
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return true
        }
        while true {
            guard value(depth: depth) else { return false }
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return true
            }
            guard separator(UInt8(ascii: ",")) else { return false }
        }
    }

    /// `:` or `,` and exactly one space after it, as the writer puts them.
    @inline(__always)
    private mutating func separator(_ mark: UInt8) -> Bool {
        guard index + 1 < bytes.count, bytes[index] == mark, bytes[index + 1] == UInt8(ascii: " ") else { return false }
        index += 2
        return true
    }

    @inline(__always)
    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count, memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    /// `-?(0|[1-9][0-9]*)`, at most 18 digits (always an `Int64`: longer
    /// ones may parse as `.uint` or `.double`, left to the parser), not `-0`.
    private mutating func integer() -> Bool {
        var j = index
        if bytes[j] == UInt8(ascii: "-") { j += 1 }
        let digits = j
        while j < bytes.count, JSONLexer.isDigit(bytes[j]) { j += 1 }
        let count = j - digits
        guard count > 0, count <= 18 else { return false }
        if bytes[digits] == UInt8(ascii: "0") && (count > 1 || digits > index) { return false }
        index = j
        return true
    }

    enum StringForm { case plain, escaped }

    /// A string as the writer writes it; `.plain` when it has no escape
    /// (its bytes are its UTF-8), nil when it is not in the writer's form.
    mutating func string() -> StringForm? {
        index += 1
        var form = StringForm.plain
        while true {
            index = PlainTextScan.plainRunEnd(bytes, from: index, to: bytes.count, quote: UInt8(ascii: "\""), stopAtDelete: true)
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return form
            case UInt8(ascii: "\\"):
                form = .escaped
                guard escape() else { return nil }
            default:
                // A raw control byte, DEL or non-ASCII: the writer escapes these.
                return nil
            }
        }
    }

    /// One escape at `index` (the backslash), in the form the writer uses for
    /// the character it stands for.
    private mutating func escape() -> Bool {
        guard index + 1 < bytes.count else { return false }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
            return true
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: index + 2) else { return false }
            index += 6
            switch unit {
            case 0x08, 0x09, 0x0A, 0x0C, 0x0D:
                return false  // written as \b, \t, \n, \f, \r
            case 0..<0x20:
                return true
            case 0x20..<0x7F:
                return false  // printable ASCII is written as itself
            case 0xD800..<0xDC00:
                guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                      let low = hex4(at: index + 2), low >= 0xDC00 && low < 0xE000 else { return false }
                index += 6
                return ModifiedUTF8.isValidCodePoint(0x10000 + ((unit & 0x3FF) << 10) | (low & 0x3FF))
            default:
                return ModifiedUTF8.isValidCodePoint(unit)
            }
        default:
            return false
        }
    }

    /// Four uppercase hex digits, as the writer writes them.
    @inline(__always)
    private func hex4(at i: Int) -> Int? {
        guard i + 4 <= bytes.count else { return nil }
        var v = 0
        for k in i..<(i + 4) {
            let c = bytes[k]
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = v << 4 | Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = v << 4 | Int(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
        return v
    }
}

#if canImport(Glibc)
import Glibc
#endif
