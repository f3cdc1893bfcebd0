import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the rocker plugin and a negotiated client.
struct RockerVM {
    let fleet: TestFleet
    let client: TestClient

    init(rocker: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, plugins: {rocker: \(rocker)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        fleet.guestAction(vm: "vm0", plugin: "rocker", action: action, arguments: args)
    }

    /// The seed's switch: sw1 with two enabled, linked ports, its flow and its four L2 interface groups.
    static let seedSwitch = """
        {switches: [{name: sw1, ports: [{enabled: true, link-up: true}, {enabled: true, link-up: true}],
          flows: [{cookie: 0, hits: 138, key: {priority: 1, tbl-id: 0, in-pport: 0}, mask: {in-pport: 4294901760}, action: {goto-tbl: 10}}],
          groups: [{id: 251658240, out-pport: 0, pop-vlan: 1}, {id: 251658241, out-pport: 1, pop-vlan: 1},
                   {id: 251723776, out-pport: 0, pop-vlan: 1}, {id: 251723778, out-pport: 2, pop-vlan: 1}]}]}
        """
}
