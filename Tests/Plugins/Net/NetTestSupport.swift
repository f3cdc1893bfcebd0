import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the net plugin, a negotiated client and a control client.
struct NetVM {
    let fleet: TestFleet
    let client: TestClient
    let control: TestClient

    init(net: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, plugins: {net: \(net)}}]")
        client = fleet.connect(to: "vm0")
        client.negotiate()
        control = fleet.connectControl()
        control.negotiate()
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? {
        client.call(command, args)?["return"]
    }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) {
        let e = client.call(command, args)?["error"]
        return (e?["class"]?.stringValue, e?["desc"]?.stringValue)
    }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        control.call("guest-action", ["vm": "vm0", "plugin": "net", "action": .string(action), "arguments": .object(args)])
    }

    /// The events named `name` received so far (others stay queued).
    func events(_ name: String) -> [JSONValue] {
        client.takeEvents().filter { $0["event"] == .string(name) }
    }
}
