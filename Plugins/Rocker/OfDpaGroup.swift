import QMPPluginKit
import QMPWire

/// One OF-DPA group entry. Its 32-bit id encodes the type (bits 28-31) and,
/// by type, the VLAN (16-27) and port (0-15) or an index (0-15 or 0-27),
/// as `rocker_hw.h` lays it out.
final class OfDpaGroup {
    enum Kind: UInt8 {
        case l2Interface = 0, l2Rewrite, l3Unicast, l2Multicast, l2Flood, l3Interface, l3Multicast, l3ECMP, l2Overlay
    }

    /// query-rocker-of-dpa-groups' `type` that QEMU reads as "every type".
    static let anyType: UInt8 = 9

    let id: UInt32
    var outPport: UInt32 = 0
    var popVlan: UInt8 = 0
    var groupID: UInt32 = 0
    var setVlanID: UInt16 = 0
    var setEthSrc = MACAddress.zero
    var setEthDst = MACAddress.zero
    var ttlCheck: UInt8 = 0
    var groupIDs: [UInt32] = []

    var type: UInt8 { UInt8(id >> 28) }
    var vlanID: UInt16 { UInt16(id >> 16 & 0x0fff) }
    var pport: UInt32 { id & 0xffff }
    var index: UInt32 { id & 0xffff }
    var longIndex: UInt32 { id & 0x0fff_ffff }

    /// The id of an L2 interface group: VLAN `vlan` on port `pport`.
    static func l2InterfaceID(vlan: UInt16, pport: UInt32) -> UInt32 { UInt32(vlan & 0x0fff) << 16 | (pport & 0xffff) }

    /// A group as OF_DPA_GROUP_ADD gives it; `existing` resolves the groups
    /// it chains to, which QEMU requires to exist and to be L2 interfaces.
    init(_ args: QAPI.GroupAddGuestAction, existing: (UInt32) -> OfDpaGroup?) throws(RockerFault) {
        let id = try RockerValue.narrow(args.id, "id", as: UInt32.self) ?? 0
        self.id = id
        let what = "group \(id)"
        switch Kind(rawValue: UInt8(id >> 28)) {
        case .l2Interface:
            guard let out = try RockerValue.narrow(args.outPport, "out-pport", as: UInt32.self),
                  let pop = try RockerValue.narrow(args.popVlan, "pop-vlan", as: UInt8.self)
            else { throw .invalid("\(what) needs 'out-pport' and 'pop-vlan'") }
            outPport = out
            popVlan = pop
        case .l2Rewrite, .l3Unicast:
            guard let next = try RockerValue.narrow(args.groupId, "group-id", as: UInt32.self) else { throw .invalid("\(what) needs 'group-id'") }
            guard let target = existing(next), target.type == Kind.l2Interface.rawValue else {
                throw .invalid("\(what): next group \(next) is not an L2 interface group")
            }
            groupID = next
            setVlanID = try RockerValue.narrow(args.setVlanId, "set-vlan-id", as: UInt16.self) ?? 0
            setEthSrc = try RockerValue.mac(args.setEthSrc, "set-eth-src") ?? .zero
            setEthDst = try RockerValue.mac(args.setEthDst, "set-eth-dst") ?? .zero
            ttlCheck = try RockerValue.narrow(args.ttlCheck, "ttl-check", as: UInt8.self) ?? 0
        case .l2Flood, .l2Multicast:
            guard let members = args.groupIds, !members.isEmpty else {
                throw .invalid("\(what) needs 'group-ids'")
            }
            for member in members {
                guard let next = UInt32(exactly: member),
                      let target = existing(next), target.type == Kind.l2Interface.rawValue, target.vlanID == vlanID
                else { throw .invalid("\(what): members must be L2 interface groups of VLAN \(vlanID)") }
                groupIDs.append(next)
            }
        default:
            throw .notSupported("\(what) of type \(id >> 28)")
        }
    }

    /// `RockerOfDpaGroup` by QEMU's `of_dpa_group_fill`: members by type;
    /// rewrite fields only when set; `group-ids` prepended, so reversed.
    var json: JSONValue {
        var g: JSONObject = ["id": .uint(UInt64(id)), "type": .uint(UInt64(type))]
        switch Kind(rawValue: type) {
        case .l2Interface:
            g["vlan-id"] = .uint(UInt64(vlanID))
            g["pport"] = .uint(UInt64(pport))
            g["out-pport"] = .uint(UInt64(outPport))
            g["pop-vlan"] = .uint(UInt64(popVlan))
        case .l2Rewrite, .l3Unicast:
            g["index"] = .uint(UInt64(longIndex))
            g["group-id"] = .uint(UInt64(groupID))
            if setVlanID != 0 { g["set-vlan-id"] = .uint(UInt64(setVlanID)) }
            if !setEthSrc.isZero { g["set-eth-src"] = .string(setEthSrc.description) }
            if !setEthDst.isZero { g["set-eth-dst"] = .string(setEthDst.description) }
            if type == Kind.l3Unicast.rawValue, ttlCheck != 0 { g["ttl-check"] = .uint(UInt64(ttlCheck)) }
        case .l2Flood, .l2Multicast:
            g["vlan-id"] = .uint(UInt64(vlanID))
            g["index"] = .uint(UInt64(index))
            if !groupIDs.isEmpty { g["group-ids"] = .array(groupIDs.reversed().map { .uint(UInt64($0)) }) }
        default:
            break
        }
        return .object(g)
    }
}
