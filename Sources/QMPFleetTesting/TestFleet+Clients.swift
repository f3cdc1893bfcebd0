import QMPWire

/// The clients most tests start with, ready to send commands.
///
/// ```swift
/// let fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, plugins: {net: {}}}]")
/// let client = fleet.negotiatedClient(to: "vm0")
/// client.result("query-rx-filter")
/// fleet.guestAction(vm: "vm0", plugin: "net", action: "link-status", arguments: ["nic": "nic0"])
/// ```
extension TestFleet {
    /// A new client of VM `name` past capabilities negotiation; the greeting
    /// and the negotiation reply are consumed.
    public func negotiatedClient(to name: String) -> TestClient {
        let client = connect(to: name)
        client.negotiate()
        return client
    }

    /// Runs the control plane's `guest-action`: what the simulated guest of VM
    /// `vm` does to `plugin`'s devices (a driver writing to a port, a link
    /// going down). Returns the whole reply, `{"return": ...}` or `{"error": ...}`.
    /// One negotiated control client, made on first use, carries every action.
    @discardableResult
    public func guestAction(vm: String, plugin: String, action: String, arguments: JSONObject = [:]) -> JSONValue? {
        let control = guestActionClient ?? {
            let client = connectControl()
            client.negotiate()
            guestActionClient = client
            return client
        }()
        return control.call("guest-action", [
            "vm": .string(vm), "plugin": .string(plugin), "action": .string(action), "arguments": .object(arguments),
        ])
    }
}
