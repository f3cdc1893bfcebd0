import QAPISchema
import QMPServer
import QMPWire
import Testing

@testable import FleetCore

/// `CommandDispatch`, the one path from a request to a handler for VMs and
/// the control socket: what it refuses, in QEMU's `qmp_dispatch` order
/// (unknown command, then out-of-band, then arguments), and what it hands on.
/// Texts as qemu-system-x86_64 7.2 gives them: `{"execute": "nope", "arguments": {"x": 1}}`
/// is CommandNotFound, `{"exec-oob": "query-status"}` with oob is "The command
/// query-status does not support OOB", a missing member "Parameter 'size' is missing".
@Suite struct CommandDispatchTests {
    let dispatch: CommandDispatch<String>

    init() throws {
        let module = try SchemaModule(name: "t", expressions: try JSONValue(parsing: """
            [{"command": "grow", "data": {"size": "int", "*unit": "str"}},
             {"command": "fast", "allow-oob": true},
             {"command": "declared-only"}]
            """))
        dispatch = CommandDispatch(schema: try SchemaView(modules: [module]),
                                   handlers: ["grow": "grow handler", "fast": "fast handler", "undeclared": "never"])
    }

    private func call(_ name: String, _ arguments: JSONObject? = nil, oob: Bool = false) -> CommandCall {
        CommandCall(request: QMPRequest(execute: name, arguments: arguments, isOOB: oob), session: nil, fileDescriptors: [])
    }

    private func error(_ result: Result<String, QMPError>) -> QMPError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test func theHandlerGetsTheCheckedArguments() throws {
        let grow = call("grow", ["size": 5])
        #expect(try dispatch.resolve(grow).get() == "grow handler")
        #expect(grow.arguments == ["size": 5])
        #expect(try dispatch.resolve(call("fast", oob: true)).get() == "fast handler")
    }

    @Test func unknownBeforeOutOfBandBeforeArguments() {
        // A handler without a declaration, and a declaration without a handler, are not commands.
        for name in ["nope", "undeclared", "declared-only"] {
            #expect(error(dispatch.resolve(call(name, ["x": 1], oob: true))) == .commandNotFound(name))
        }
        #expect(error(dispatch.resolve(call("grow", [:], oob: true))) == .commandWithoutOOB("grow"))
        #expect(error(dispatch.resolve(call("grow", [:]))) == .generic("Parameter 'size' is missing"))
        #expect(error(dispatch.resolve(call("grow", ["size": "x"])))?.desc == "Invalid parameter type for 'size', expected: integer")
        #expect(dispatch.lookup("grow")?.1.name == "grow")
        #expect(dispatch.lookup("declared-only") == nil)
    }
}
