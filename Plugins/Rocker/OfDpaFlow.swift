import QMPPluginKit
import QMPWire

/// One OF-DPA flow entry, as the guest's driver installs it with
/// OF_DPA_FLOW_ADD, and as query-rocker-of-dpa-flows reports it.
final class OfDpaFlow {
    /// The OF-DPA pipeline's tables, by id: ingress port, VLAN, termination
    /// MAC, unicast routing, multicast routing, bridging, ACL policy. QEMU
    /// refuses a flow for any other table (-ROCKER_ENOTSUP).
    static let tables: Set<UInt32> = [0, 10, 20, 30, 40, 50, 60]

    let cookie: UInt64
    let priority: UInt32
    let tableID: UInt32
    let key: OfDpaMatch
    let mask: OfDpaMatch
    let gotoTable: UInt32
    let groupID: UInt32
    let newVlanID: UInt16
    var hits: UInt64

    /// A flow as OF_DPA_FLOW_ADD gives it (`hits`: a config's count). A
    /// key field without a mask is matched exactly, as the Linux rocker
    /// driver asks for it.
    init(_ args: QAPI.FlowAddGuestAction, hits: UInt64 = 0) throws(RockerFault) {
        cookie = args.cookie
        let k = args.key
        let m = args.mask ?? QAPI.RockerOfDpaFlowMask()
        priority = try RockerValue.narrow(k.priority, "priority", as: UInt32.self) ?? 0
        let table = try RockerValue.narrow(k.tblId, "tbl-id", as: UInt32.self) ?? 0
        guard OfDpaFlow.tables.contains(table) else { throw .notSupported("flow table \(table)") }
        tableID = table
        var key = OfDpaMatch()
        var mask = OfDpaMatch()
        if let v = try RockerValue.narrow(k.inPport, "in-pport", as: UInt32.self) {
            key.inPport = v
            mask.inPport = try RockerValue.narrow(m.inPport, "in-pport", as: UInt32.self) ?? .max
        }
        if let v = try RockerValue.narrow(k.tunnelId, "tunnel-id", as: UInt32.self) {
            key.tunnelID = v
            mask.tunnelID = try RockerValue.narrow(m.tunnelId, "tunnel-id", as: UInt32.self) ?? .max
        }
        if let v = try RockerValue.narrow(k.vlanId, "vlan-id", as: UInt16.self) {
            key.vlanID = v
            mask.vlanID = try RockerValue.narrow(m.vlanId, "vlan-id", as: UInt16.self) ?? .max
        }
        key.ethType = try RockerValue.narrow(k.ethType, "eth-type", as: UInt16.self) ?? 0
        if let v = try RockerValue.mac(k.ethSrc, "eth-src") {
            key.ethSrc = v
            mask.ethSrc = try RockerValue.mac(m.ethSrc, "eth-src") ?? .allOnes
        }
        if let v = try RockerValue.mac(k.ethDst, "eth-dst") {
            key.ethDst = v
            mask.ethDst = try RockerValue.mac(m.ethDst, "eth-dst") ?? .allOnes
        }
        if let v = try RockerValue.narrow(k.ipProto, "ip-proto", as: UInt8.self) {
            key.ipProto = v
            mask.ipProto = try RockerValue.narrow(m.ipProto, "ip-proto", as: UInt8.self) ?? .max
        }
        if let v = try RockerValue.narrow(k.ipTos, "ip-tos", as: UInt8.self) {
            key.ipTOS = v
            mask.ipTOS = try RockerValue.narrow(m.ipTos, "ip-tos", as: UInt8.self) ?? .max
        }
        if let text = k.ipDst {
            guard let prefix = OfDpaMatch.parseIPv4Prefix(text) else { throw .invalid("'ip-dst' is not an IPv4 prefix") }
            key.ipv4Dst = prefix.address
            mask.ipv4Dst = prefix.mask
        }
        self.key = key
        self.mask = mask
        let action = args.action ?? QAPI.RockerOfDpaFlowAction()
        gotoTable = try RockerValue.narrow(action.gotoTbl, "goto-tbl", as: UInt32.self) ?? 0
        if gotoTable != 0, !OfDpaFlow.tables.contains(gotoTable) || gotoTable <= table {
            throw .invalid("goto-tbl \(gotoTable) from table \(table)")
        }
        groupID = try RockerValue.narrow(action.groupId, "group-id", as: UInt32.self) ?? 0
        newVlanID = try RockerValue.narrow(action.newVlanId, "new-vlan-id", as: UInt16.self) ?? 0
        self.hits = hits
    }

    /// `RockerOfDpaFlow` by QEMU's `of_dpa_flow_fill` rules: a key field
    /// shows when key or mask has it, its mask only when not all ones; IP
    /// fields only under an IPv4/IPv6 EtherType; the IPv4 destination as
    /// "address/prefix" in the key; of the actions, only goto-tbl, group-id
    /// and new-vlan-id, and only when set.
    var json: JSONValue {
        var k: JSONObject = ["priority": .uint(UInt64(priority)), "tbl-id": .uint(UInt64(tableID))]
        var m = JSONObject()
        if key.inPport != 0 || mask.inPport != 0 {
            k["in-pport"] = .uint(UInt64(key.inPport))
            if mask.inPport != .max { m["in-pport"] = .uint(UInt64(mask.inPport)) }
        }
        if key.tunnelID != 0 || mask.tunnelID != 0 {
            k["tunnel-id"] = .uint(UInt64(key.tunnelID))
            if mask.tunnelID != .max { m["tunnel-id"] = .uint(UInt64(mask.tunnelID)) }
        }
        if key.vlanID != 0 || mask.vlanID != 0 {
            k["vlan-id"] = .uint(UInt64(key.vlanID))
            if mask.vlanID != .max { m["vlan-id"] = .uint(UInt64(mask.vlanID)) }
        }
        if !key.ethSrc.isZero || !mask.ethSrc.isZero {
            k["eth-src"] = .string(key.ethSrc.description)
            if mask.ethSrc != .allOnes { m["eth-src"] = .string(mask.ethSrc.description) }
        }
        if !key.ethDst.isZero || !mask.ethDst.isZero {
            k["eth-dst"] = .string(key.ethDst.description)
            if mask.ethDst != .allOnes { m["eth-dst"] = .string(mask.ethDst.description) }
        }
        if key.ethType != 0 {
            k["eth-type"] = .uint(UInt64(key.ethType))
            if key.ethType == OfDpaMatch.ipv4EthType || key.ethType == OfDpaMatch.ipv6EthType {
                if key.ipProto != 0 || mask.ipProto != 0 {
                    k["ip-proto"] = .uint(UInt64(key.ipProto))
                    if mask.ipProto != .max { m["ip-proto"] = .uint(UInt64(mask.ipProto)) }
                }
                if key.ipTOS != 0 || mask.ipTOS != 0 {
                    k["ip-tos"] = .uint(UInt64(key.ipTOS))
                    if mask.ipTOS != .max { m["ip-tos"] = .uint(UInt64(mask.ipTOS)) }
                }
            }
            if key.ethType == OfDpaMatch.ipv4EthType, key.ipv4Dst != 0 || mask.ipv4Dst != 0 {
                k["ip-dst"] = .string("\(OfDpaMatch.ipv4Text(key.ipv4Dst))/\(OfDpaMatch.prefixLength(mask.ipv4Dst))")
            }
        }
        var a = JSONObject()
        if gotoTable != 0 { a["goto-tbl"] = .uint(UInt64(gotoTable)) }
        if groupID != 0 { a["group-id"] = .uint(UInt64(groupID)) }
        if newVlanID != 0 { a["new-vlan-id"] = .uint(UInt64(newVlanID)) }
        return ["cookie": .uint(cookie), "hits": .uint(hits), "key": .object(k), "mask": .object(m), "action": .object(a)]
    }
}
