import QMPPluginKit
import QMPWire

/// What the guest's rocker driver (Linux `rocker` in OF-DPA mode) does to
/// the switch through its command ring, and traffic arriving on its ports.
extension RockerPlugin {
    /// Runs `change` on the named switch, turning a refusal into an error.
    func onSwitch(_ name: String, _ change: (RockerSwitch) throws(RockerFault) -> JSONValue) -> Result<JSONValue, QMPError> {
        Result { () throws(QMPError) in
            let sw = try lookup(name)
            do throws(RockerFault) {
                return try change(sw)
            } catch {
                throw .generic(error.message(switch: sw.name))
            }
        }
    }

    /// OF_DPA_FLOW_ADD: a config's flow is these members too (RockerConfig).
    func guestFlowAdd(_ args: QAPI.FlowAddGuestAction) -> Result<JSONValue, QMPError> {
        onSwitch(args.name) { sw throws(RockerFault) in
            try sw.addFlow(try OfDpaFlow(args))
            return .object([:])
        }
    }

    /// OF_DPA_FLOW_DEL.
    func guestFlowDel(_ args: QAPI.FlowDelGuestAction) -> Result<JSONValue, QMPError> {
        onSwitch(args.name) { sw throws(RockerFault) in
            try sw.removeFlow(cookie: args.cookie)
            return .object([:])
        }
    }

    /// OF_DPA_GROUP_ADD: a config's group is these members too (RockerConfig).
    func guestGroupAdd(_ args: QAPI.GroupAddGuestAction) -> Result<JSONValue, QMPError> {
        onSwitch(args.name) { sw throws(RockerFault) in
            try sw.addGroup(try OfDpaGroup(args) { sw.groups[$0] })
            return .object([:])
        }
    }

    /// OF_DPA_GROUP_DEL.
    func guestGroupDel(_ args: QAPI.GroupDelGuestAction) -> Result<JSONValue, QMPError> {
        onSwitch(args.name) { sw throws(RockerFault) in
            let id = try RockerValue.narrow(args.id, "id", as: UInt32.self) ?? 0
            try sw.removeGroup(id: id)
            return .object([:])
        }
    }

    /// Packets arrive on a port and walk the pipeline: `{"hits": [cookies]}`.
    func guestTraffic(_ args: QAPI.TrafficGuestAction) -> Result<JSONValue, QMPError> {
        onSwitch(args.name) { sw throws(RockerFault) in
            var packet = OfDpaMatch()
            packet.inPport = try RockerValue.narrow(args.inPport, "in-pport", as: UInt32.self) ?? 0
            packet.vlanID = try RockerValue.narrow(args.vlanId, "vlan-id", as: UInt16.self) ?? 0
            packet.ethType = try RockerValue.narrow(args.ethType, "eth-type", as: UInt16.self) ?? 0
            packet.ethSrc = try RockerValue.mac(args.ethSrc, "eth-src") ?? .zero
            packet.ethDst = try RockerValue.mac(args.ethDst, "eth-dst") ?? .zero
            packet.ipProto = try RockerValue.narrow(args.ipProto, "ip-proto", as: UInt8.self) ?? 0
            packet.ipTOS = try RockerValue.narrow(args.ipTos, "ip-tos", as: UInt8.self) ?? 0
            if let text = args.ipDst {
                guard let address = OfDpaMatch.parseIPv4(text) else { throw .invalid("'ip-dst' is not an IPv4 address") }
                packet.ipv4Dst = address
            }
            let hits = sw.receive(packet, count: args.packets ?? 1)
            return ["hits": .array(hits.map { .uint($0) })]
        }
    }

    /// The cable on port `port` (1-based) is plugged or pulled.
    func guestPortLink(_ args: QAPI.PortLinkGuestAction) -> Result<JSONValue, QMPError> {
        changePort(args.name, args.port) { port throws(RockerFault) in port.linkUp = args.up }
    }

    /// The driver's SET_PORT_SETTINGS and port enable register.
    /// A config's port is these members too (RockerConfig).
    func guestPortSettings(_ args: QAPI.PortSettingsGuestAction) -> Result<JSONValue, QMPError> {
        changePort(args.name, args.port) { port throws(RockerFault) in try port.apply(args) }
    }

    private func changePort(_ name: String, _ port: UInt64, _ change: (inout RockerPort) throws(RockerFault) -> Void) -> Result<JSONValue, QMPError> {
        onSwitch(name) { sw throws(RockerFault) in
            let pport = try RockerValue.narrow(port, "port", as: UInt32.self) ?? 0
            let index = Int(pport) - 1
            guard sw.ports.indices.contains(index) else { throw .invalid("no port \(pport)") }
            try change(&sw.ports[index])
            return .object([:])
        }
    }
}
