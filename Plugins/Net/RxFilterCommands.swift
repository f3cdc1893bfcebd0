import QMPPluginKit
import QMPWire

/// query-rx-filter: every NIC that can report its filter, or one by name.
/// Querying a NIC re-arms its NIC_RX_FILTER_CHANGED.
extension NetPlugin {
    func nic(named name: String) -> NIC? { nics.first { $0.name == name } }

    func queryRxFilter(_ args: QAPI.QueryRxFilterCommand) -> Result<JSONValue, QMPError> {
        guard let name = args.name else {
            let listed = nics.filter { $0.rxFilter != nil }
            listed.forEach { $0.rxFilterNotifyEnabled = true }
            return .success(.array(listed.map { $0.rxFilter!.info(name: $0.name) }))
        }
        return rxFilterNIC(name).map { nic in
            nic.rxFilterNotifyEnabled = true
            return .array([nic.rxFilter!.info(name: nic.name)])
        }
    }

    /// The NIC `name` if it has an rx filter, else QEMU's error for it.
    func rxFilterNIC(_ name: String) -> Result<NIC, QMPError> {
        guard let nic = nic(named: name) else {
            if netdev(name) != nil { return .failure(.generic("net client(\(name)) isn't a NIC")) }
            return .failure(.generic("invalid net client name: \(name)"))
        }
        guard nic.rxFilter != nil else { return .failure(.generic("net client(\(name)) doesn't support rx-filter querying")) }
        return .success(nic)
    }

    /// After the guest changed a filter: the event, unless one is already
    /// unanswered for this NIC.
    func rxFilterChanged(_ nic: NIC) {
        guard nic.rxFilterNotifyEnabled else { return }
        nic.rxFilterNotifyEnabled = false
        var data: JSONObject = [:]
        if let id = nic.id { data["name"] = .string(id) }
        data["path"] = .string(nic.rxFilterPath)
        vm.emit("NIC_RX_FILTER_CHANGED", data)
    }
}
