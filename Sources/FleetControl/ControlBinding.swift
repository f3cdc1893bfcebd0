import FleetCore
import QAPIRuntime
import QMPServer
import QMPWire

/// A control-socket command bound to its handler through the type
/// scripts/qapi-gen generates from `control-schema.json`
/// (`QAPI.Control.VmCreateCommand`), as `CommandBinding` binds the core's:
/// the name is the type's, the handler gets typed arguments, and the
/// request was checked against the same declaration first (QEMU's texts).
struct ControlBinding {
    let name: String
    /// Runs the command on the control plane with its checked members.
    let run: (ControlPlane, JSONObject, CommandCall, @escaping (CommandResult) -> Void) -> Void

    static func bind<C: QAPICommand>(
        _: C.Type, _ body: @escaping (ControlPlane, C, CommandCall, @escaping (CommandResult) -> Void) -> Void
    ) -> ControlBinding {
        ControlBinding(name: C.qapiName) { plane, members, call, complete in
            switch C.decoding(members) {
            case .success(let arguments): body(plane, arguments, call, complete)
            case .failure(let error): complete(.failure(error))
            }
        }
    }

    /// A command that also keeps its checked members as given (`fault-add`:
    /// a fault is parsed by the reader the config file's `faults:` use).
    static func bindKeepingMembers<C: QAPICommand>(
        _: C.Type, _ body: @escaping (ControlPlane, C, JSONObject, @escaping (CommandResult) -> Void) -> Void
    ) -> ControlBinding {
        ControlBinding(name: C.qapiName) { plane, members, _, complete in
            switch C.decoding(members) {
            case .success(let arguments): body(plane, arguments, members, complete)
            case .failure(let error): complete(.failure(error))
            }
        }
    }

    /// The table of `bindings`; a name bound twice stops the process at
    /// startup instead of dropping a handler.
    static func table(_ bindings: [ControlBinding]) -> [String: ControlBinding] {
        var table: [String: ControlBinding] = [:]
        for binding in bindings {
            precondition(table.updateValue(binding, forKey: binding.name) == nil, "control command '\(binding.name)' is bound twice")
        }
        return table
    }
}
