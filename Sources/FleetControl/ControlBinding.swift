import FleetCore
import QAPIRuntime
import QMPServer
import QMPWire

/// What runs a control command: the plane, the checked members, the call
/// (for its client and descriptors) and the completion.
typealias ControlHandler = (ControlPlane, JSONObject, CommandCall, @escaping (CommandResult) -> Void) -> Void

/// A control-socket command bound through its generated
/// `QAPI.Control.<Name>Command` (scripts/qapi-gen from `control-schema.json`),
/// as the core's are: the same `QAPIBinding`, a handler of the plane's own.
typealias ControlBinding = QAPIBinding<ControlHandler>

extension QAPIBinding where Handler == ControlHandler {
    static func bind<C: QAPICommand>(
        _: C.Type, _ body: @escaping (ControlPlane, C, CommandCall, @escaping (CommandResult) -> Void) -> Void
    ) -> ControlBinding {
        ControlBinding(name: C.qapiName) { plane, members, call, complete in
            C.decoded(members, else: complete) { body(plane, $0, call, complete) }
        }
    }

    /// A command that also keeps its checked members as given (`fault-add`:
    /// a fault is parsed by the reader the config file's `faults:` use).
    static func bindKeepingMembers<C: QAPICommand>(
        _: C.Type, _ body: @escaping (ControlPlane, C, JSONObject, @escaping (CommandResult) -> Void) -> Void
    ) -> ControlBinding {
        ControlBinding(name: C.qapiName) { plane, members, _, complete in
            C.decoded(members, else: complete) { body(plane, $0, members, complete) }
        }
    }
}
