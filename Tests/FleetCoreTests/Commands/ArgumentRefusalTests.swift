import QAPIRuntime
import QMPFleetTesting
import QMPWire
import Testing

@testable import FleetControl
@testable import FleetCore

/// A missing and a wrong-typed argument are refused before any handler runs,
/// with QEMU 7.2's texts, alike for a core command, a control command and a
/// plugin command (whose handler then gets typed arguments, generated from
/// its schema by scripts/qapi-gen). Texts checked against
/// qemu-system-x86_64 7.2 -machine none: qom-list {"path": 1}, qom-list {},
/// balloon {"value": "x"}, balloon {}, trace-event-get-state {"name": 5} and {}.
@Suite struct ArgumentRefusalTests {
    let fleet: TestFleet

    init() throws {
        fleet = try TestFleet(yaml: """
            vms:
              - {name: vm0, memory: {size: 1G}, plugins: {balloon: {device: balloon0}, trace: {}}}
            """)
    }

    private func refusal(_ client: TestClient, _ command: String, _ arguments: JSONObject?) -> JSONValue? {
        client.call(command, arguments)?["error"]
    }

    private static func generic(_ desc: String) -> JSONValue { ["class": "GenericError", "desc": .string(desc)] }

    @Test func coreCommand() {
        let c = fleet.negotiatedClient(to: "vm0")
        #expect(refusal(c, "qom-list", ["path": 1]) == Self.generic("Invalid parameter type for 'path', expected: string"))
        #expect(refusal(c, "qom-list", nil) == Self.generic("Parameter 'path' is missing"))
    }

    /// The control socket has no QEMU counterpart; its commands are checked
    /// by the same QAPI checker, so they give the texts QEMU's visitor would.
    @Test func controlCommand() {
        let c = fleet.connectControl()
        c.negotiate()
        #expect(refusal(c, "vm-destroy", ["name": true]) == Self.generic("Invalid parameter type for 'name', expected: string"))
        #expect(refusal(c, "vm-destroy", [:]) == Self.generic("Parameter 'name' is missing"))
        #expect(fleet.vm("vm0") != nil)
    }

    /// With a balloon plugged, a handler that read a missing or mistyped
    /// `value` as 0 would answer "Parameter 'target' expects a size".
    @Test func pluginCommand() {
        let c = fleet.negotiatedClient(to: "vm0")
        #expect(refusal(c, "balloon", ["value": "x"]) == Self.generic("Invalid parameter type for 'value', expected: integer"))
        #expect(refusal(c, "balloon", nil) == Self.generic("Parameter 'value' is missing"))
        #expect(refusal(c, "trace-event-get-state", ["name": 5]) == Self.generic("Invalid parameter type for 'name', expected: string"))
        #expect(refusal(c, "trace-event-get-state", [:]) == Self.generic("Parameter 'name' is missing"))
        #expect(c.call("balloon", ["value": 536_870_912])?["return"] == .object([:]))
    }

    /// A guest action's arguments (declared in the plugin's schema.json,
    /// typed by scripts/qapi-gen) are checked the same way, named as members
    /// of the action; before, Block's `lock-tray` read a missing device as "".
    @Test func pluginGuestAction() {
        let fleet = try! TestFleet(yaml: """
            vms:
              - {name: vm1, plugins: {block: {}}}
            """)
        let c = fleet.connectControl()
        c.negotiate()
        let call = { (arguments: JSONObject) in
            refusal(c, "guest-action", ["vm": "vm1", "plugin": "block", "action": "lock-tray", "arguments": .object(arguments)])
        }
        #expect(call(["device": 1]) == Self.generic("Invalid parameter type for 'device', expected: string"))
        #expect(call([:]) == Self.generic("Parameter 'device' is missing"))
    }

    /// The generated decoders themselves, for a value the checker never saw:
    /// the same texts, never a default. A core command's types are
    /// FleetCore's and a control command's FleetControl's (scripts/qapi-gen
    /// from core-schema.json and control-schema.json); a plugin's types are in its library, and
    /// QMPPluginKitTests' GeneratedDecodingTests.refusalsMatchTheChecker
    /// shows the plugin side with the common schema plugins include.
    @Test func generatedDecoders() {
        func refusal<C: QAPICommand>(_: C.Type, _ arguments: JSONObject) -> String? {
            if case .failure(let error) = C.decoding(arguments) { return error.desc }
            return nil
        }
        #expect(refusal(QAPI.QomListCommand.self, ["path": 1]) == "Invalid parameter type for 'path', expected: string")
        #expect(refusal(QAPI.QomListCommand.self, [:]) == "Parameter 'path' is missing")
        #expect(refusal(QAPI.BalloonCommand.self, ["value": "x"]) == "Invalid parameter type for 'value', expected: integer")
        #expect(refusal(QAPI.Control.VmDestroyCommand.self, ["name": true]) == "Invalid parameter type for 'name', expected: string")
        #expect(refusal(QAPI.Control.VmDestroyCommand.self, [:]) == "Parameter 'name' is missing")
        #expect(refusal(QAPI.QomListCommand.self, ["path": "/machine"]) == nil)
    }
}
