import Foundation
import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the chardev plugin, a negotiated client and a control client.
struct ChardevVM {
    let fleet: TestFleet
    let client: TestClient
    let control: TestClient

    init(chardev: String = "{serial: []}", startPaused: Bool = false) throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, start-paused: \(startPaused), plugins: {chardev: \(chardev)}}]")
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

    func add(_ id: String, _ type: String, _ data: JSONObject = [:]) -> JSONValue? {
        client.call("chardev-add", ["id": .string(id), "backend": ["type": .string(type), "data": .object(data)]])
    }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        control.call("guest-action", ["vm": "vm0", "plugin": "chardev", "action": .string(action), "arguments": .object(args)])
    }

    /// A fresh scratch directory under /tmp.
    static func scratch() -> String {
        let dir = "/tmp/chardev-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
