import QMPPluginKit
import QMPWire

/// The plugin's section of a VM's config: the switches the VM starts with
/// (as `-device rocker,...`), and the state their guest driver has set up.
///
/// ```yaml
/// plugins:
///   rocker:
///     switches:
///       - name: sw1                # device properties, as device_add takes them:
///         len-ports: 2             #   name, len-ports, switch_id, fp_start_macaddr, world
///         id: rocker0              # the device id (optional)
///         ports: [{enabled: true, link-up: true}, {enabled: true, link-up: true}]
///         flows: [{cookie: 0, hits: 138, key: {priority: 1, tbl-id: 0, in-pport: 0},
///                  mask: {in-pport: 4294901760}, action: {goto-tbl: 10}}]
///         groups: [{id: 251658240, out-pport: 0, pop-vlan: 1}]
/// ```
/// `ports` entries take `enabled`, `link-up`, `speed`, `duplex`, `autoneg`
/// for port 1, 2, ... (port-settings' members, and the link); `len-ports`
/// defaults to the length of `ports`. A flow has flow-add's members and
/// `hits`, a group group-add's, both without `name`: each is read by the
/// guest action's generated decoder, so a missing or wrong-typed member is
/// named.
struct RockerConfig {
    struct Switch {
        var deviceID: String?
        var properties: JSONObject
        var ports: [JSONObject]
        var flows: [JSONObject]
        var groups: [JSONObject]
    }

    var switches: [Switch] = []

    static let stateKeys: Set<String> = ["id", "ports", "flows", "groups"]

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "rocker", keys: .expected(["switches"]),
                                                     notAMapping: "expected a mapping with 'switches'") else { return }
        for (i, entry) in try RockerConfig.objects(section["switches"], "switches").enumerated() {
            var properties = JSONObject()
            for (key, value) in entry where !RockerConfig.stateKeys.contains(key) {
                guard RockerPlugin.propertyNames.contains(key) else {
                    throw PluginError("rocker: switches[\(i)]: Property 'rocker.\(key)' not found")
                }
                properties[key] = value
            }
            let ports = try RockerConfig.objects(entry["ports"], "switches[\(i)].ports")
            if properties["len-ports"] == nil, !ports.isEmpty { properties["len-ports"] = .int(Int64(ports.count)) }
            switches.append(Switch(deviceID: entry["id"]?.stringValue, properties: properties, ports: ports,
                                   flows: try RockerConfig.objects(entry["flows"], "switches[\(i)].flows"),
                                   groups: try RockerConfig.objects(entry["groups"], "switches[\(i)].groups")))
        }
    }

    private static func objects(_ value: JSONValue?, _ key: String) throws(PluginError) -> [JSONObject] {
        try PluginConfig.mappings(value, plugin: "rocker", key: key)
    }
}

extension RockerConfig {
    /// `entry` read as guest action `T` takes it, with `extra` (the
    /// switch's name, a port's number) added.
    static func decode<T: QAPIObject>(_ entry: JSONObject, adding extra: JSONObject, _ place: String) throws(RockerFault) -> T {
        var members = entry
        for (key, value) in extra { members[key] = value }
        do {
            return try T(qapiMembers: members, at: .root)
        } catch {
            throw .invalid("\(place): \(error.desc)")
        }
    }

    /// A config-only member (a flow's `hits`, a port's `link-up`).
    static func member<T: QAPIValue>(_ entry: JSONObject, _ name: String, _ place: String) throws(RockerFault) -> T? {
        do {
            return try entry.optional(name, at: .root)
        } catch {
            throw .invalid("\(place): \(error.desc)")
        }
    }
}

extension RockerSwitch {
    /// What the config says the guest driver set up: port settings and
    /// links, then groups, then flows, as the guest actions would.
    func configure(_ entry: RockerConfig.Switch) throws(RockerFault) {
        let named: JSONObject = ["name": .string(name)]
        for (i, settings) in entry.ports.enumerated() where i < ports.count {
            let place = "ports[\(i)]"
            let port: QAPI.PortSettingsGuestAction = try RockerConfig.decode(settings, adding: ["name": .string(name), "port": .int(Int64(i + 1))], place)
            try ports[i].apply(port)
            if let up: Bool = try RockerConfig.member(settings, "link-up", place) { ports[i].linkUp = up }
        }
        for (i, group) in entry.groups.enumerated() {
            let args: QAPI.GroupAddGuestAction = try RockerConfig.decode(group, adding: named, "groups[\(i)]")
            try addGroup(try OfDpaGroup(args) { groups[$0] })
        }
        for (i, flow) in entry.flows.enumerated() {
            let args: QAPI.FlowAddGuestAction = try RockerConfig.decode(flow, adding: named, "flows[\(i)]")
            try addFlow(try OfDpaFlow(args, hits: try RockerConfig.member(flow, "hits", "flows[\(i)]") ?? 0))
        }
    }
}
