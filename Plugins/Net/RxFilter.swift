import QMPPluginKit
import QMPWire

/// A virtio-net receive filter as the guest driver programs it through the
/// control virtqueue, and as `query-rx-filter` reports it.
struct RxFilter {
    /// `MAC_TABLE_ENTRIES` in virtio-net: unicast and multicast share it.
    static let macTableEntries = 64
    /// QAPI's `RxState` (schema.json), one type for the guest action and the reply.
    typealias Mode = QAPI.RxState

    var promiscuous = true
    var unicast = Mode.normal
    var multicast = Mode.normal
    /// virtio-net's `nobcast`. QEMU 7.2 reports this value as
    /// "broadcast-allowed" (an inverted field it has had since 1.6), so a
    /// freshly reset NIC reports `false`; we report what QEMU reports.
    var noBroadcast = false
    var unicastTable: [MACAddress] = []
    var multicastTable: [MACAddress] = []
    var unicastOverflow = false
    var multicastOverflow = false
    var mainMAC: MACAddress
    /// VLAN filtering is off until the guest negotiates VIRTIO_NET_F_CTRL_VLAN;
    /// until then QEMU reports "all" and every id in the table.
    var vlanFiltering = false
    var vlans = VLANTable.all

    init(mac: MACAddress) { mainMAC = mac }

    /// The guest sets both MAC tables at once (VIRTIO_NET_CTRL_MAC_TABLE_SET):
    /// a table that does not fit is dropped and flagged as overflowed.
    mutating func setTables(unicast uni: [MACAddress], multicast multi: [MACAddress]) {
        unicastTable = []
        multicastTable = []
        unicastOverflow = false
        multicastOverflow = false
        if uni.count <= RxFilter.macTableEntries { unicastTable = uni } else { unicastOverflow = true }
        if unicastTable.count + multi.count <= RxFilter.macTableEntries { multicastTable = multi } else { multicastOverflow = true }
    }

    /// RxFilterInfo, in QAPI member order. Tables are listed newest first,
    /// as QEMU builds them by prepending.
    func info(name: String) -> JSONValue {
        let vlanTable = vlans.descending.map { JSONValue.int(Int64($0)) }
        let vlanMode: Mode = !vlanFiltering ? .all : (vlans.isEmpty ? .none : .normal)
        return [
            "name": .string(name),
            "promiscuous": .bool(promiscuous),
            "multicast": .string(multicast.rawValue),
            "unicast": .string(unicast.rawValue),
            "vlan": .string(vlanMode.rawValue),
            "broadcast-allowed": .bool(noBroadcast),
            "multicast-overflow": .bool(multicastOverflow),
            "unicast-overflow": .bool(unicastOverflow),
            "main-mac": .string(mainMAC.description),
            "vlan-table": .array(vlanTable),
            "unicast-table": .array(unicastTable.reversed().map { .string($0.description) }),
            "multicast-table": .array(multicastTable.reversed().map { .string($0.description) }),
        ]
    }
}
