/// An Ethernet address as qdev's `mac` property reads and prints it: six hex
/// pairs separated by ':' or '-' (`set_mac` in QEMU's
/// hw/core/qdev-properties-system.c), printed lower-case with ':'
/// (`qemu_mac_strdup_printf`).
///
/// ```swift
/// MACAddress(parsing: "52-54-00-AA-BB-CC")?.description   // "52:54:00:aa:bb:cc"
/// ```
///
/// One type for every plugin that reads or prints an address (NICs, their
/// receive filters, rocker's switch and OF-DPA tables), so they all accept
/// exactly what QEMU accepts.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 6
    public static let zero = MACAddress(bytes: [0, 0, 0, 0, 0, 0])
    public static let allOnes = MACAddress(bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    /// QEMU's default prefix for NICs without a `mac`: 52:54:00:12:34:xx.
    public static let defaultPrefix: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34]
    /// The first last byte QEMU hands out (`qemu_macaddr_get_free`).
    public static let firstDefaultLastByte: UInt8 = 0x56

    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == MACAddress.byteCount, "a MAC address has six bytes")
        self.bytes = bytes
    }

    /// nil unless `text` is exactly `xx:xx:xx:xx:xx:xx` (or with '-'), each
    /// `x` a hex digit: no sign, no short pair, as QEMU's parser.
    public init?(parsing text: String) {
        let chars = Array(text.utf8)
        guard chars.count == MACAddress.byteCount * 3 - 1 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(MACAddress.byteCount)
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

    public var isZero: Bool { self == .zero }
    public var isMulticast: Bool { bytes[0] & 1 == 1 }

    /// The default address with last byte `last`.
    public static func qemuDefault(lastByte last: UInt8) -> MACAddress {
        MACAddress(bytes: defaultPrefix + [last])
    }

    /// The address's bytes copied into a little-endian u64, as QEMU's rocker
    /// derives a default switch id (`memcpy(&switch_id, &macaddr, 6)`).
    public var littleEndianValue: UInt64 {
        bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// Bitwise and, for masked matches.
    public func and(_ other: MACAddress) -> MACAddress {
        MACAddress(bytes: zip(bytes, other.bytes).map { $0 & $1 })
    }

    public var description: String {
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
