import QAPIRuntime
import QMPWire

/// A core command bound to its handler through the type scripts/qapi-gen
/// generates from `core-schema.json` (`QAPI.QomListCommand`): the name is
/// the type's, and the handler gets the arguments typed. The request was
/// checked against the same declaration before (QEMU's texts for a missing
/// or wrong-typed member), so decoding cannot fail on what the checker let
/// through; if it ever does, its error is the answer and the handler does
/// not run.
struct CommandBinding {
    let name: String
    let handler: CommandHandler

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
            switch C.decoding(context.arguments) {
            case .success(let arguments): body(context, arguments, complete)
            case .failure(let error): complete(.failure(error))
            }
        })
    }

    /// The handler table of `bindings`; a name bound twice is a programming
    /// error that stops the process at its first command table, not a
    /// silently dropped handler.
    static func table(_ bindings: [CommandBinding]) -> [String: CommandHandler] {
        var table: [String: CommandHandler] = [:]
        for binding in bindings {
            precondition(table.updateValue(binding.handler, forKey: binding.name) == nil, "core command '\(binding.name)' is bound twice")
        }
        return table
    }
}
