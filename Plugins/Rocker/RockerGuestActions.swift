import QMPWire

/// What the guest's rocker driver (Linux `rocker` in OF-DPA mode) does to
/// the switch through its command ring, and traffic arriving on its ports.
extension RockerPlugin {
    /// Member maps for the guest actions (QAPI syntax, checked by the host).
    enum GuestActionArguments {
        static let flowAdd: JSONValue = [
            "name": "str", "cookie": "uint64", "key": "RockerOfDpaFlowKey",
            "*mask": "RockerOfDpaFlowMask", "*action": "RockerOfDpaFlowAction",
        ]
        static let flowDel: JSONValue = ["name": "str", "cookie": "uint64"]
        static let groupAdd: JSONValue = [
            "name": "str", "id": "uint32", "*out-pport": "uint32", "*pop-vlan": "uint8", "*group-id": "uint32",
            "*set-vlan-id": "uint16", "*set-eth-src": "str", "*set-eth-dst": "str", "*ttl-check": "uint8",
            "*group-ids": ["uint32"],
        ]
        static let groupDel: JSONValue = ["name": "str", "id": "uint32"]
        static let traffic: JSONValue = [
            "name": "str", "in-pport": "uint32", "*vlan-id": "uint16", "*eth-type": "uint16", "*eth-src": "str",
            "*eth-dst": "str", "*ip-proto": "uint8", "*ip-tos": "uint8", "*ip-dst": "str", "*packets": "uint64",
        ]
        static let portLink: JSONValue = ["name": "str", "port": "uint32", "up": "bool"]
        static let portSettings: JSONValue = [
            "name": "str", "port": "uint32", "*enabled": "bool", "*speed": "uint32",
            "*duplex": "RockerPortDuplex", "*autoneg": "RockerPortAutoneg",
        ]
    }

    /// Runs `change` on the named switch, turning a refusal into an error.
    func onSwitch(_ args: JSONObject, _ change: (RockerSwitch) throws(RockerFault) -> JSONValue) -> Result<JSONValue, QMPError> {
        Result { () throws(QMPError) in
            let sw = try lookup(args["name"]?.stringValue ?? "")
            do throws(RockerFault) {
                return try change(sw)
            } catch {
                throw .generic(error.message(switch: sw.name))
            }
        }
    }

    /// OF_DPA_FLOW_ADD.
    func guestFlowAdd(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        onSwitch(args) { sw throws(RockerFault) in
            try sw.addFlow(try OfDpaFlow(args))
            return .object([:])
        }
    }

    /// OF_DPA_FLOW_DEL.
    func guestFlowDel(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        onSwitch(args) { sw throws(RockerFault) in
            try sw.removeFlow(cookie: RockerValue.unsigned(args["cookie"]) ?? 0)
            return .object([:])
        }
    }

    /// OF_DPA_GROUP_ADD.
    func guestGroupAdd(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        onSwitch(args) { sw throws(RockerFault) in
            try sw.addGroup(try OfDpaGroup(args) { sw.groups[$0] })
            return .object([:])
        }
    }

    /// OF_DPA_GROUP_DEL.
    func guestGroupDel(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        onSwitch(args) { sw throws(RockerFault) in
            let id = try RockerValue.field(args, "id", as: UInt32.self) ?? 0
            try sw.removeGroup(id: id)
            return .object([:])
        }
    }

    /// Packets arrive on a port and walk the pipeline: `{"hits": [cookies]}`.
    func guestTraffic(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        onSwitch(args) { sw throws(RockerFault) in
            var packet = OfDpaMatch()
            packet.inPport = try RockerValue.field(args, "in-pport", as: UInt32.self) ?? 0
            packet.vlanID = try RockerValue.field(args, "vlan-id", as: UInt16.self) ?? 0
            packet.ethType = try RockerValue.field(args, "eth-type", as: UInt16.self) ?? 0
            packet.ethSrc = try RockerValue.mac(args, "eth-src") ?? .zero
            packet.ethDst = try RockerValue.mac(args, "eth-dst") ?? .zero
            packet.ipProto = try RockerValue.field(args, "ip-proto", as: UInt8.self) ?? 0
            packet.ipTOS = try RockerValue.field(args, "ip-tos", as: UInt8.self) ?? 0
            if let text = args["ip-dst"]?.stringValue {
                guard let address = OfDpaMatch.parseIPv4(text) else { throw .invalid("'ip-dst' is not an IPv4 address") }
                packet.ipv4Dst = address
            }
            let hits = sw.receive(packet, count: RockerValue.unsigned(args["packets"]) ?? 1)
            return ["hits": .array(hits.map { .uint($0) })]
        }
    }

    /// The cable on port `port` (1-based) is plugged or pulled.
    func guestPortLink(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        changePort(args) { port throws(RockerFault) in port.linkUp = args["up"]?.boolValue ?? false }
    }

    /// The driver's SET_PORT_SETTINGS and port enable register.
    func guestPortSettings(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        var settings = args
        settings["name"] = nil
        settings["port"] = nil
        return changePort(args) { port throws(RockerFault) in try port.apply(settings) }
    }

    private func changePort(_ args: JSONObject, _ change: (inout RockerPort) throws(RockerFault) -> Void) -> Result<JSONValue, QMPError> {
        onSwitch(args) { sw throws(RockerFault) in
            let pport = try RockerValue.field(args, "port", as: UInt32.self) ?? 0
            let index = Int(pport) - 1
            guard sw.ports.indices.contains(index) else { throw .invalid("no port \(pport)") }
            try change(&sw.ports[index])
            return .object([:])
        }
    }
}
