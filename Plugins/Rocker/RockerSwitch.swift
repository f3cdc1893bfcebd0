import QMPWire

/// One rocker switch device: its front-panel ports and its OF-DPA world's
/// flow and group tables.
///
/// The tables keep QEMU's GLib hash-table order, because the query
/// commands list entries in that order (reversed, as they prepend).
final class RockerSwitch {
    let name: String
    let switchID: UInt64
    var ports: [RockerPort]
    /// The device's id or QOM path, for device_del.
    let deviceID: String?
    let qomPath: String
    var unplugPending = false

    private(set) var flows: [UInt64: OfDpaFlow] = [:]
    private(set) var groups: [UInt32: OfDpaGroup] = [:]
    /// QEMU's `rocker_int64_hash`: the cookie's low 32 bits.
    private var flowTable = GHashTableOrder<UInt64> { UInt32(truncatingIfNeeded: $0) }
    /// `g_int_hash`: the id itself.
    private var groupTable = GHashTableOrder<UInt32> { $0 }

    init(name: String, switchID: UInt64, portCount: Int, deviceID: String?, qomPath: String) {
        self.name = name
        self.switchID = switchID
        ports = (0..<portCount).map { RockerPort(switchName: name, index: $0) }
        self.deviceID = deviceID
        self.qomPath = qomPath
    }

    var info: JSONValue {
        ["name": .string(name), "id": .uint(switchID), "ports": .uint(UInt64(ports.count))]
    }

    // MARK: Flows

    func addFlow(_ flow: OfDpaFlow) throws(RockerFault) {
        guard flows[flow.cookie] == nil else { throw .exists("flow \(flow.cookie)") }
        flows[flow.cookie] = flow
        flowTable.insert(flow.cookie)
    }

    func removeFlow(cookie: UInt64) throws(RockerFault) {
        guard flows.removeValue(forKey: cookie) != nil else { throw .notFound("flow \(cookie)") }
        flowTable.remove(cookie)
    }

    /// The flows of table `tableID` in QEMU's listing order; table
    /// 0xffffffff (QEMU's -1) means every table.
    func flows(inTable tableID: UInt32) -> [OfDpaFlow] {
        flowTable.iterationOrder.reversed().compactMap { flows[$0] }
            .filter { tableID == .max || $0.tableID == tableID }
    }

    // MARK: Groups

    func addGroup(_ group: OfDpaGroup) throws(RockerFault) {
        guard groups[group.id] == nil else { throw .exists("group \(group.id)") }
        groups[group.id] = group
        groupTable.insert(group.id)
    }

    func removeGroup(id: UInt32) throws(RockerFault) {
        guard groups.removeValue(forKey: id) != nil else { throw .notFound("group \(id)") }
        groupTable.remove(id)
    }

    /// The groups of `type` in QEMU's listing order; type 9 means every type.
    func groups(ofType type: UInt8) -> [OfDpaGroup] {
        groupTable.iterationOrder.reversed().compactMap { groups[$0] }
            .filter { type == OfDpaGroup.anyType || $0.type == type }
    }

    // MARK: Traffic

    /// The most tables a packet can visit (each goto goes to a later table).
    static let maxPipelineSteps = OfDpaFlow.tables.count

    /// `count` packets arrive on port `pport` (1-based): each walks the
    /// pipeline from the ingress port table, counting a hit on the
    /// highest-priority matching flow of each table it reaches. Nothing
    /// arrives on a disabled port or a port whose link is down. Returns the
    /// cookies of the flows hit, in pipeline order.
    func receive(_ packet: OfDpaMatch, count: UInt64) -> [UInt64] {
        let index = Int(packet.inPport) - 1
        guard ports.indices.contains(index), ports[index].enabled, ports[index].linkUp else { return [] }
        var packet = packet
        var table: UInt32 = 0
        var hit: [UInt64] = []
        for _ in 0..<RockerSwitch.maxPipelineSteps {
            let candidates = flows(inTable: table).filter { $0.key.matches(packet, mask: $0.mask) }
            guard let flow = candidates.max(by: { $0.priority < $1.priority }) else { break }
            flow.hits &+= count
            hit.append(flow.cookie)
            if flow.newVlanID != 0 { packet.vlanID = flow.newVlanID }
            guard flow.gotoTable != 0 else { break }
            table = flow.gotoTable
        }
        return hit
    }

    /// The device's reset: the OF-DPA world starts over with empty tables,
    /// ports go back to their reset settings.
    func reset() {
        flows = [:]
        groups = [:]
        flowTable = GHashTableOrder<UInt64> { UInt32(truncatingIfNeeded: $0) }
        groupTable = GHashTableOrder<UInt32> { $0 }
        for i in ports.indices { ports[i].reset() }
    }
}
