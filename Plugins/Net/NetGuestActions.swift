import QMPPluginKit
import QMPWire

/// What the simulated guest's network driver does: program the receive
/// filter of a virtio-net card and watch its link; and the far end of a
/// stream backend coming and going.
extension NetPlugin {
    /// Member maps for the guest actions (QAPI syntax, checked by the host).
    enum GuestActionArguments {
        static let rxFilter: JSONValue = [
            "nic": "str", "*promiscuous": "bool", "*unicast": "RxState", "*multicast": "RxState",
            "*broadcast-allowed": "bool", "*main-mac": "str", "*unicast-table": ["str"],
            "*multicast-table": ["str"], "*vlan-table": ["int"],
        ]
        static let setPromiscuous: JSONValue = ["nic": "str", "on": "bool"]
        static let addMulticast: JSONValue = ["nic": "str", "addresses": ["str"]]
        static let linkStatus: JSONValue = ["nic": "str"]
        static let streamPeer: JSONValue = ["netdev": "str", "connected": "bool"]
    }

    /// Applies `change` to the filter of NIC `name`, then notifies.
    func changeRxFilter(_ name: String, _ change: (inout RxFilter) -> QMPError?) -> Result<JSONValue, QMPError> {
        let nic: NIC
        switch rxFilterNIC(name) {
        case .failure(let error): return .failure(error)
        case .success(let found): nic = found
        }
        var filter = nic.rxFilter!
        if let error = change(&filter) { return .failure(error) }
        nic.rxFilter = filter
        rxFilterChanged(nic)
        return .success(.object([:]))
    }

    func guestRxFilter(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        changeRxFilter(args["nic"]?.stringValue ?? "") { filter in
            if let on = args["promiscuous"]?.boolValue { filter.promiscuous = on }
            if let mode = args["unicast"]?.stringValue.flatMap(RxFilter.Mode.init(rawValue:)) { filter.unicast = mode }
            if let mode = args["multicast"]?.stringValue.flatMap(RxFilter.Mode.init(rawValue:)) { filter.multicast = mode }
            if let allowed = args["broadcast-allowed"]?.boolValue { filter.noBroadcast = !allowed }
            if let text = args["main-mac"]?.stringValue {
                guard let mac = MACAddress(parsing: text) else { return .generic("invalid MAC address '\(text)'") }
                filter.mainMAC = mac
            }
            if args["unicast-table"] != nil || args["multicast-table"] != nil {
                var tables: [[MACAddress]] = []
                for key in ["unicast-table", "multicast-table"] {
                    var table: [MACAddress] = []
                    for entry in args[key]?.arrayValue ?? [] {
                        let text = entry.stringValue ?? ""
                        guard let mac = MACAddress(parsing: text) else { return .generic("invalid MAC address '\(text)'") }
                        table.append(mac)
                    }
                    tables.append(table)
                }
                filter.setTables(unicast: tables[0], multicast: tables[1])
            }
            if let ids = args["vlan-table"]?.arrayValue {
                var vlans = VLANTable.empty
                for id in ids {
                    guard let v = id.int64Value, v >= 0, v < VLANTable.idCount else { return .generic("VLAN id out of range 0-4095") }
                    vlans.insert(Int(v))
                }
                filter.vlanFiltering = true
                filter.vlans = vlans
            }
            return nil
        }
    }

    func guestSetPromiscuous(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        changeRxFilter(args["nic"]?.stringValue ?? "") { filter in
            filter.promiscuous = args["on"]?.boolValue ?? true
            return nil
        }
    }

    /// Adds multicast addresses to those the guest already listens to.
    func guestAddMulticast(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        changeRxFilter(args["nic"]?.stringValue ?? "") { filter in
            var added: [MACAddress] = []
            for entry in args["addresses"]?.arrayValue ?? [] {
                let text = entry.stringValue ?? ""
                guard let mac = MACAddress(parsing: text), mac.isMulticast else {
                    return .generic("'\(text)' is not a multicast MAC address")
                }
                added.append(mac)
            }
            filter.setTables(unicast: filter.unicastTable, multicast: filter.multicastTable + added)
            return nil
        }
    }

    /// What the guest sees of the link: down when either the NIC or its
    /// backend is down, or when it has no backend at all.
    func guestLinkStatus(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        let name = args["nic"]?.stringValue ?? ""
        guard let nic = nic(named: name) else { return .failure(.generic("invalid net client name: \(name)")) }
        let up = nic.linkUp && (nic.netdev.map { $0.linkUp && !$0.isDeleted } ?? false)
        return .success(["up": .bool(up)])
    }

    /// The far end of a `stream` backend connects or leaves.
    func streamPeer(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        let id = args["netdev"]?.stringValue ?? ""
        guard let backend = netdev(id), backend.type == "stream" else {
            return .failure(.generic("no stream netdev '\(id)'"))
        }
        if args["connected"]?.boolValue ?? false {
            vm.emit("NETDEV_STREAM_CONNECTED", ["netdev-id": .string(id), "addr": backend.options["addr"] ?? .object([:])])
        } else {
            vm.emit("NETDEV_STREAM_DISCONNECTED", ["netdev-id": .string(id)])
        }
        return .success(.object([:]))
    }
}
