import QMPPluginKit
import QMPWire

/// What the simulated guest's network driver does: program the receive
/// filter of a virtio-net card and watch its link; and the far end of a
/// stream backend coming and going.
extension NetPlugin {
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

    func guestRxFilter(_ args: QAPI.RxFilterGuestAction) -> Result<JSONValue, QMPError> {
        changeRxFilter(args.nic) { filter in
            if let on = args.promiscuous { filter.promiscuous = on }
            if let mode = args.unicast { filter.unicast = mode }
            if let mode = args.multicast { filter.multicast = mode }
            if let allowed = args.broadcastAllowed { filter.noBroadcast = !allowed }
            if let text = args.mainMac {
                guard let mac = MACAddress(parsing: text) else { return .generic("invalid MAC address '\(text)'") }
                filter.mainMAC = mac
            }
            if args.unicastTable != nil || args.multicastTable != nil {
                var tables: [[MACAddress]] = []
                for texts in [args.unicastTable, args.multicastTable] {
                    var table: [MACAddress] = []
                    for text in texts ?? [] {
                        guard let mac = MACAddress(parsing: text) else { return .generic("invalid MAC address '\(text)'") }
                        table.append(mac)
                    }
                    tables.append(table)
                }
                filter.setTables(unicast: tables[0], multicast: tables[1])
            }
            if let ids = args.vlanTable {
                var vlans = VLANTable.empty
                for v in ids {
                    guard v >= 0, v < VLANTable.idCount else { return .generic("VLAN id out of range 0-4095") }
                    vlans.insert(Int(v))
                }
                filter.vlanFiltering = true
                filter.vlans = vlans
            }
            return nil
        }
    }

    func guestSetPromiscuous(_ args: QAPI.SetPromiscuousGuestAction) -> Result<JSONValue, QMPError> {
        changeRxFilter(args.nic) { filter in
            filter.promiscuous = args.on
            return nil
        }
    }

    /// Adds multicast addresses to those the guest already listens to.
    func guestAddMulticast(_ args: QAPI.AddMulticastGuestAction) -> Result<JSONValue, QMPError> {
        changeRxFilter(args.nic) { filter in
            var added: [MACAddress] = []
            for text in args.addresses {
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
    func guestLinkStatus(_ args: QAPI.LinkStatusGuestAction) -> Result<JSONValue, QMPError> {
        let name = args.nic
        guard let nic = nic(named: name) else { return .failure(.generic("invalid net client name: \(name)")) }
        let up = nic.linkUp && (nic.netdev.map { $0.linkUp && !$0.isDeleted } ?? false)
        return .success(["up": .bool(up)])
    }

    /// The far end of a `stream` backend connects or leaves.
    func streamPeer(_ args: QAPI.StreamPeerGuestAction) -> Result<JSONValue, QMPError> {
        let id = args.netdev
        guard let backend = netdev(id), backend.type == "stream" else {
            return .failure(.generic("no stream netdev '\(id)'"))
        }
        if args.connected {
            vm.emit("NETDEV_STREAM_CONNECTED", ["netdev-id": .string(id), "addr": backend.options["addr"] ?? .object([:])])
        } else {
            vm.emit("NETDEV_STREAM_DISCONNECTED", ["netdev-id": .string(id)])
        }
        return .success(.object([:]))
    }
}
