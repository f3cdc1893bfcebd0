import QMPWire

/// query-rocker, query-rocker-ports, query-rocker-of-dpa-flows and
/// query-rocker-of-dpa-groups.
extension RockerPlugin {
    /// The switch named `name`, or QEMU's error for an unknown one.
    func lookup(_ args: JSONObject) -> Result<RockerSwitch, QMPError> {
        let name = args["name"]?.stringValue ?? ""
        guard let sw = rockerSwitch(name) else { return .failure(.generic("rocker \(name) not found")) }
        return .success(sw)
    }

    func queryRocker(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        lookup(args).map(\.info)
    }

    func queryPorts(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        lookup(args).map { .array($0.ports.map(\.json)) }
    }

    /// Without `tbl-id`, QEMU 7.2 lists table 0 only: its handler ignores
    /// `has_tbl_id` and the marshaller leaves `tbl_id` zero. Every table is
    /// `tbl-id` 4294967295, the -1 that HMP passes.
    func queryFlows(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        let table = args["tbl-id"].flatMap(RockerValue.unsigned).flatMap(UInt32.init(exactly:)) ?? 0
        return lookup(args).map { .array($0.flows(inTable: table).map(\.json)) }
    }

    /// Without `type`, QEMU 7.2 lists L2 interface groups (type 0) only, for
    /// the same reason; every type is `type` 9, HMP's "any".
    func queryGroups(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        let type = args["type"].flatMap(RockerValue.unsigned).flatMap(UInt8.init(exactly:)) ?? 0
        return lookup(args).map { .array($0.groups(ofType: type).map(\.json)) }
    }
}
