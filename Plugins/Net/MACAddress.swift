/// An Ethernet address as qdev's `mac` property reads and prints it:
/// six hex pairs separated by ':' or '-', printed lower-case with ':'.
///
/// ```swift
/// MACAddress(parsing: "52-54-00-AA-BB-CC")?.description   // "52:54:00:aa:bb:cc"
/// ```
struct MACAddress: Hashable, CustomStringConvertible {
    static let byteCount = 6
    /// QEMU's default prefix for NICs without a `mac`: 52:54:00:12:34:xx.
    static let defaultPrefix: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34]
    /// The first last byte QEMU hands out (`qemu_macaddr_get_free`).
    static let firstDefaultLastByte: UInt8 = 0x56

    let bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// nil when `text` is not exactly `xx:xx:xx:xx:xx:xx` (or with '-').
    init?(parsing text: String) {
        let chars = Array(text.utf8)
        guard chars.count == MACAddress.byteCount * 3 - 1 else { return nil }
        var bytes: [UInt8] = []
        for i in 0..<MACAddress.byteCount {
            let pos = i * 3
            guard let high = MACAddress.hexValue(chars[pos]), let low = MACAddress.hexValue(chars[pos + 1]) else { return nil }
            if i < MACAddress.byteCount - 1 {
                guard chars[pos + 2] == UInt8(ascii: ":") || chars[pos + 2] == UInt8(ascii: "-") else { return nil }
            }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    var isZero: Bool { bytes.allSatisfy { $0 == 0 } }
    var isMulticast: Bool { bytes[0] & 1 == 1 }

    /// The default address with last byte `last`.
    static func qemuDefault(lastByte last: UInt8) -> MACAddress {
        MACAddress(bytes: defaultPrefix + [last])
    }

    var description: String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: ":")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
