import QMPWire

/// Reads typed QOM/qdev property values the way QEMU's input visitors do,
/// keeping the first error (QEMU stops at the first bad member).
struct PropertyReader {
    let props: JSONObject
    private(set) var error: QMPError?

    init(_ props: JSONObject) { self.props = props }

    private mutating func fail(_ text: String) {
        if error == nil { error = .generic(text) }
    }

    mutating func bool(_ name: String) -> Bool? {
        guard let value = props[name] else { return nil }
        guard let b = value.boolValue else { fail("Invalid parameter type for '\(name)', expected: boolean"); return nil }
        return b
    }

    mutating func string(_ name: String) -> String? {
        guard let value = props[name] else { return nil }
        guard let s = value.stringValue else { fail("Invalid parameter type for '\(name)', expected: string"); return nil }
        return s
    }

    mutating func uint64(_ name: String) -> UInt64? {
        guard let value = props[name] else { return nil }
        return uint64(name, value)
    }

    /// QAPI's `uint64`/`size`: a negative JSON number wraps, as QEMU's
    /// visitor lets it.
    mutating func uint64(_ name: String, _ value: JSONValue) -> UInt64? {
        switch value {
        case .int(let i): return UInt64(bitPattern: i)
        case .uint(let u): return u
        default: fail("Parameter '\(name)' expects uint64"); return nil
        }
    }

    mutating func uint16List(_ name: String) -> [UInt16]? {
        guard let value = props[name] else { return nil }
        guard let items = value.arrayValue else { fail("Invalid parameter type for '\(name)', expected: array"); return nil }
        var result: [UInt16] = []
        for (i, item) in items.enumerated() {
            guard let n = item.int64Value else { fail("Invalid parameter type for '\(name)[\(i)]', expected: integer"); return nil }
            guard let v = UInt16(exactly: n) else { fail("Parameter '\(name)[\(i)]' expects uint16"); return nil }
            result.append(v)
        }
        return result
    }

    /// A qdev integer property: a JSON number, or a string qdev parses
    /// (decimal or 0x hex), as `device_add` accepts both.
    mutating func qdevInteger(_ name: String) -> Int64? {
        guard let value = props[name] else { return nil }
        switch value {
        case .int(let i): return i
        case .uint(let u): return Int64(bitPattern: u)
        case .string(let s):
            let parsed = s.hasPrefix("0x") || s.hasPrefix("0X") ? UInt64(s.dropFirst(2), radix: 16).map { Int64(bitPattern: $0) } : Int64(s)
            if let parsed { return parsed }
            fail("Parameter '\(name)' expects integer")
            return nil
        default:
            fail("Parameter '\(name)' expects integer")
            return nil
        }
    }
}
