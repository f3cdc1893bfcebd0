import QMPPluginKit
import QMPWire

/// query-rocker, query-rocker-ports, query-rocker-of-dpa-flows and
/// query-rocker-of-dpa-groups.
extension RockerPlugin {
    /// The switch named `name`, or QEMU's error for an unknown one.
    func lookup(_ name: String) throws(QMPError) -> RockerSwitch {
        guard let sw = rockerSwitch(name) else { throw .generic("rocker \(name) not found") }
        return sw
    }

    func queryRocker(_ args: QAPI.QueryRockerCommand) throws(QMPError) -> JSONValue {
        try lookup(args.name).info
    }

    func queryPorts(_ args: QAPI.QueryRockerPortsCommand) throws(QMPError) -> JSONValue {
        .array(try lookup(args.name).ports.map(\.json))
    }

    /// Without `tbl-id`, QEMU 7.2 lists table 0 only: its handler ignores
    /// `has_tbl_id` and the marshaller leaves `tbl_id` zero. Every table is
    /// `tbl-id` 4294967295, the -1 that HMP passes (the checker has kept it
    /// within uint32).
    func queryFlows(_ args: QAPI.QueryRockerOfDpaFlowsCommand) throws(QMPError) -> JSONValue {
        let table = UInt32(truncatingIfNeeded: args.tblId ?? 0)
        return .array(try lookup(args.name).flows(inTable: table).map(\.json))
    }

    /// Without `type`, QEMU 7.2 lists L2 interface groups (type 0) only, for
    /// the same reason; every type is `type` 9, HMP's "any".
    func queryGroups(_ args: QAPI.QueryRockerOfDpaGroupsCommand) throws(QMPError) -> JSONValue {
        let type = UInt8(truncatingIfNeeded: args.type ?? 0)
        return .array(try lookup(args.name).groups(ofType: type).map(\.json))
    }
}
