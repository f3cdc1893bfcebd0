import Foundation
import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the chardev plugin and a negotiated client.
struct ChardevVM {
    let fleet: TestFleet
    let client: TestClient

    init(chardev: String = "{serial: []}", startPaused: Bool = false) throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, start-paused: \(startPaused), plugins: {chardev: \(chardev)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    func add(_ id: String, _ type: String, _ data: JSONObject = [:]) -> JSONValue? {
        client.call("chardev-add", ["id": .string(id), "backend": ["type": .string(type), "data": .object(data)]])
    }

    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        fleet.guestAction(vm: "vm0", plugin: "chardev", action: action, arguments: args)
    }

    /// A fresh scratch directory under /tmp.
    static func scratch() -> String {
        let dir = "/tmp/chardev-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
