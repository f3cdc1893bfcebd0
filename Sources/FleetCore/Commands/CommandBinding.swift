import QAPIRuntime
import QMPWire

/// A command's name bound to what runs it, through the type scripts/qapi-gen
/// generates from its schema (`QAPI.QomListCommand`, `QAPI.Control.VmCreateCommand`):
/// the name is the type's, and the handler gets the arguments typed. The
/// request was checked against the same declaration before
/// (`CommandDispatch.resolve`: QEMU's texts for a missing or wrong-typed
/// member), so decoding cannot fail on what the checker let through; if it
/// ever does, its error is the answer and the handler does not run.
///
/// Core commands bind a `CommandHandler` (`CommandBinding`), the control
/// socket its own handler type (`ControlBinding`); both tables are made by
/// `table`.
package struct QAPIBinding<Handler> {
    package let name: String
    package let handler: Handler

    package init(name: String, handler: Handler) {
        self.name = name
        self.handler = handler
    }

    /// The handler table of `bindings`; a name bound twice is a programming
    /// error that stops the process when the table is first made, not a
    /// silently dropped handler.
    package static func table(_ bindings: [Self], of kind: String) -> [String: Handler] {
        var table: [String: Handler] = [:]
        for binding in bindings {
            precondition(table.updateValue(binding.handler, forKey: binding.name) == nil, "\(kind) command '\(binding.name)' is bound twice")
        }
        return table
    }
}

extension QAPICommand {
    /// Runs `body` with the checked `members` decoded as this command, or
    /// answers with the error the generated decoder found.
    package static func decoded(_ members: JSONObject, else complete: (CommandResult) -> Void, _ body: (Self) -> Void) {
        switch decoding(members) {
        case .success(let arguments): body(arguments)
        case .failure(let error): complete(.failure(error))
        }
    }
}

/// A core command's binding.
typealias CommandBinding = QAPIBinding<CommandHandler>

extension QAPIBinding where Handler == CommandHandler {
    /// A command that answers at once.
    static func immediate<C: QAPICommand>(_: C.Type, _ body: @escaping (CommandContext, C) -> CommandResult) -> CommandBinding {
        CommandBinding(name: C.qapiName, handler: .immediate { context in
            switch C.decoding(context.arguments) {
            case .success(let arguments): return body(context, arguments)
            case .failure(let error): return .failure(error)
            }
        })
    }

    /// A command that answers later, through its completion.
    static func deferred<C: QAPICommand>(
        _: C.Type, _ body: @escaping (CommandContext, C, @escaping (CommandResult) -> Void) -> Void
    ) -> CommandBinding {
        CommandBinding(name: C.qapiName, handler: .deferred { context, complete in
            C.decoded(context.arguments, else: complete) { body(context, $0, complete) }
        })
    }

    /// The core's handler table.
    static func table(_ bindings: [CommandBinding]) -> [String: CommandHandler] {
        table(bindings, of: "core")
    }
}
