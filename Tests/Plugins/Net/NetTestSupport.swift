import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the net plugin and a negotiated client.
struct NetVM {
    let fleet: TestFleet
    let client: TestClient

    init(net: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, plugins: {net: \(net)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        fleet.guestAction(vm: "vm0", plugin: "net", action: action, arguments: args)
    }

    /// The events named `name` received so far (others stay queued).
    func events(_ name: String) -> [JSONValue] {
        client.takeEvents().filter { $0["event"] == .string(name) }
    }
}
