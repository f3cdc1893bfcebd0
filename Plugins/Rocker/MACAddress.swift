/// A 6-byte Ethernet address, printed as QEMU's `qemu_mac_strdup_printf`
/// prints it (lower-case hex, colon separated).
struct MACAddress: Hashable {
    var bytes: [UInt8]

    static let zero = MACAddress(bytes: [0, 0, 0, 0, 0, 0])
    static let allOnes = MACAddress(bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// "52:54:00:12:34:56" (qdev's MAC property syntax: six hex pairs).
    init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var result: [UInt8] = []
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            result.append(byte)
        }
        bytes = result
    }

    var isZero: Bool { self == .zero }

    var text: String {
        bytes.map { b in
            let hex = String(b, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// The address's bytes copied into a little-endian u64, as QEMU's rocker
    /// derives a default switch id (`memcpy(&switch_id, &macaddr, 6)`).
    var littleEndianValue: UInt64 {
        bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    func and(_ other: MACAddress) -> MACAddress {
        MACAddress(bytes: zip(bytes, other.bytes).map { $0 & $1 })
    }
}
