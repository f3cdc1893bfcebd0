import QMPWire

/// Reads typed values out of a config object and says exactly where a bad
/// one is: the file, the key path (`vms[3].smp.cores`) and what was expected.
package struct ConfigReader {
    let file: String
    let path: String
    let value: JSONValue

    package init(file: String, path: String = "", value: JSONValue) {
        self.file = file
        self.path = path
        self.value = value
    }

    func error(_ message: String, key: String? = nil) -> FleetError {
        .config(file: file, key: key.map(childPath) ?? path, message: message)
    }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func object() throws(FleetError) -> JSONObject {
        guard case .object(let o) = value else { throw error("expected a mapping") }
        return o
    }

    /// Fails on keys not in `known`: a typo should not be silently ignored.
    func checkKeys(_ known: Set<String>) throws(FleetError) {
        for key in try object().keys where !known.contains(key) {
            throw error("unknown key (expected one of: \(known.sorted().joined(separator: ", ")))", key: key)
        }
    }

    func child(_ key: String) throws(FleetError) -> ConfigReader? {
        guard let v = try object()[key], !v.isNull else { return nil }
        return ConfigReader(file: file, path: childPath(key), value: v)
    }

    func element(_ index: Int, _ v: JSONValue) -> ConfigReader {
        ConfigReader(file: file, path: "\(path)[\(index)]", value: v)
    }

    func string(_ key: String) throws(FleetError) -> String? {
        guard let c = try child(key) else { return nil }
        switch c.value {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: throw c.error("expected a string")
        }
    }

    func int(_ key: String) throws(FleetError) -> Int? {
        guard let c = try child(key) else { return nil }
        guard let i = c.value.int64Value else { throw c.error("expected an integer") }
        return Int(i)
    }

    func bool(_ key: String) throws(FleetError) -> Bool? {
        guard let c = try child(key) else { return nil }
        guard let b = c.value.boolValue else { throw c.error("expected true or false") }
        return b
    }

    /// A size: an integer of bytes, or a string with a K/M/G/T suffix as
    /// QEMU's `-m` takes it (`512M`, `4G`).
    func size(_ key: String) throws(FleetError) -> UInt64? {
        guard let c = try child(key) else { return nil }
        if let i = c.value.int64Value, i >= 0 { return UInt64(i) }
        guard case .string(let text) = c.value, let bytes = Self.parseSize(text) else {
            if case .string(let text) = c.value, Self.isSizeNumber(text) {
                // `memory: 4G` is `-m size=4G` to QEMU.
                throw c.error("Value '\(text)' is out of range for parameter '\(key == "memory" ? "size" : key)'")
            }
            throw c.error("expected a size such as 1073741824, 512M or 4G")
        }
        return bytes
    }

    /// Digits with an optional suffix: a size that only failed by being
    /// 2^64 or more (QEMU: "Value '16E' is out of range for parameter 'size'").
    static func isSizeNumber(_ text: String) -> Bool {
        var digits = Substring(text.trimmingCharacters(in: " "))
        if let last = digits.last, "KkMmGgTtPpEeBb".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func parseSize(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: " ")
        guard let last = trimmed.last else { return nil }
        let shifts: [Character: UInt64] = ["K": 10, "k": 10, "M": 20, "m": 20, "G": 30, "g": 30, "T": 40, "t": 40,
                                           "P": 50, "p": 50, "E": 60, "e": 60, "B": 0, "b": 0]
        if let shift = shifts[last] {
            // QEMU's qemu_strtosz refuses 2^64 and more ("16E"); a shift
            // would drop the high bits instead.
            guard let n = UInt64(trimmed.dropLast()), n <= UInt64.max >> shift else { return nil }
            return n << shift
        }
        return UInt64(trimmed)
    }

    func stringArray(_ key: String) throws(FleetError) -> [String]? {
        guard let c = try child(key) else { return nil }
        guard case .array(let items) = c.value else { throw c.error("expected a list of strings") }
        var result: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue else { throw c.element(i, item).error("expected a string") }
            result.append(s)
        }
        return result
    }
}

extension String {
    /// Trims the given characters from both ends (no Foundation needed).
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
