import QMPFleetTesting
import QMPWire
import Testing

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
}
