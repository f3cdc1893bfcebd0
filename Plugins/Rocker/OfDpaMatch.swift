import QMPPluginKit
import QMPWire

/// The packet fields an OF-DPA flow matches on, used three ways: a flow's
/// key, its mask, and a packet walking the pipeline. A zero field is
/// "not set", as in QEMU's `of_dpa_flow_key` (which zero-fills both).
struct OfDpaMatch: Equatable {
    var inPport: UInt32 = 0
    var tunnelID: UInt32 = 0
    var vlanID: UInt16 = 0
    var ethType: UInt16 = 0
    var ethSrc = MACAddress.zero
    var ethDst = MACAddress.zero
    var ipProto: UInt8 = 0
    var ipTOS: UInt8 = 0
    var ipv4Dst: UInt32 = 0

    /// EtherTypes whose IP fields QEMU reports.
    static let ipv4EthType: UInt16 = 0x0800
    static let ipv6EthType: UInt16 = 0x86dd

    /// Whether `packet` falls under this key with `mask`: every masked bit
    /// agrees, and the EtherType matches exactly when the key has one.
    func matches(_ packet: OfDpaMatch, mask: OfDpaMatch) -> Bool {
        guard packet.inPport & mask.inPport == inPport & mask.inPport,
              packet.tunnelID & mask.tunnelID == tunnelID & mask.tunnelID,
              packet.vlanID & mask.vlanID == vlanID & mask.vlanID,
              packet.ethSrc.and(mask.ethSrc) == ethSrc.and(mask.ethSrc),
              packet.ethDst.and(mask.ethDst) == ethDst.and(mask.ethDst),
              packet.ipProto & mask.ipProto == ipProto & mask.ipProto,
              packet.ipTOS & mask.ipTOS == ipTOS & mask.ipTOS,
              packet.ipv4Dst & mask.ipv4Dst == ipv4Dst & mask.ipv4Dst
        else { return false }
        return ethType == 0 || packet.ethType == ethType
    }

    /// "10.0.0.0/24" (or a bare address, /32) as an address and its mask.
    static func parseIPv4Prefix(_ text: String) -> (address: UInt32, mask: UInt32)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parseIPv4(String(parts[0])) else { return nil }
        var length: UInt32 = 32
        if parts.count == 2 {
            guard let l = UInt32(parts[1]), l <= 32 else { return nil }
            length = l
        }
        return (address, length == 0 ? 0 : UInt32.max << (32 - length))
    }

    static func parseIPv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func ipv4Text(_ address: UInt32) -> String {
        (0..<4).map { String(address >> (24 - 8 * $0) & 0xff) }.joined(separator: ".")
    }

    /// `of_dpa_mask2prefix`: the length of the mask's leading ones.
    static func prefixLength(_ mask: UInt32) -> Int { mask.nonzeroBitCount == 0 ? 0 : 32 - mask.trailingZeroBitCount }
}
