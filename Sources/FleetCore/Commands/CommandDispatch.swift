import QAPISchema
import QMPServer
import QMPWire

/// The commands of one schema bound to what runs them, and the one way a
/// request reaches its handler, whoever serves it: look the name up (one
/// hash lookup gives the handler and its declaration), refuse an
/// out-of-band call of a command that does not allow it, and check the
/// arguments against the declaration, each with QEMU's text. A VM's
/// `CommandTable` (core and plugin handlers) and the control socket
/// (`ControlPlane`, in FleetControl) both dispatch through it, so neither
/// has a lookup or a `switch` on names of its own, and a control command's
/// wrong-typed or missing member is refused by the same checker as a core
/// or plugin command's.
package struct CommandDispatch<Handler> {
    package let schema: SchemaView
    /// Each command's number, found by the name's bytes (a cheap hash,
    /// not a `String`'s SipHash: docs/performance.md, session 9).
    private let names: CommandNameTable
    /// Each command's handler, declaration and metrics number
    /// (`CommandCall.metricsSlot`; -1 where nobody counts them), by its
    /// number in `names`.
    private let entries: [Entry]

    /// One command, as one reference: a lookup retains it alone, where a
    /// tuple's copy retained each of the declaration's members (a pipelined
    /// `query-status`'s retains and releases in `VM.route`, docs/performance.md).
    private final class Entry {
        let handler: Handler
        let declaration: CommandDeclaration
        let slot: Int

        init(_ handler: Handler, _ declaration: CommandDeclaration, _ slot: Int) {
            self.handler = handler
            self.declaration = declaration
            self.slot = slot
        }
    }

    /// Keeps the handlers whose command `schema` declares: a handler for a
    /// name the schema does not have (another target's, say) cannot be
    /// called, and a declaration without a handler (`qmp_capabilities`,
    /// the session's) is not found.
    ///
    /// `slot` numbers a command for its counters (a VM's: `CommandSlots`),
    /// so a request's one lookup finds them too.
    package init(schema: SchemaView, handlers: [String: Handler], slot: (String) -> Int = { _ in -1 }) {
        var names: [String] = []
        var entries: [Entry] = []
        names.reserveCapacity(handlers.count)
        entries.reserveCapacity(handlers.count)
        for (name, handler) in handlers {
            if let (declaration, _) = schema.command(name) {
                names.append(name)
                entries.append(Entry(handler, declaration, slot(name)))
            }
        }
        self.schema = schema
        self.names = CommandNameTable(names)
        self.entries = entries
    }

    /// The number and stored name of the command named by `bytes`
    /// (`SessionHost.command(named:)`): `resolve` takes the number back
    /// from the request.
    package func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? {
        names.entry(bytes: bytes)
    }

    /// The handler and declaration of `name`, if it is a command here.
    package func lookup(_ name: String) -> (Handler, CommandDeclaration)? {
        names[name].map { (entries[$0].handler, entries[$0].declaration) }
    }

    /// The handler that runs `call`, with the checked arguments stored in
    /// `call.arguments`; or the error QEMU gives for an unknown command,
    /// an out-of-band call of an in-band one, or arguments its declaration
    /// refuses (in that order, as QEMU's `qmp_dispatch`). A command found
    /// has its metrics number in `call.metricsSlot`, whatever the outcome.
    package func resolve(_ call: CommandCall) -> Result<Handler, QMPError> {
        guard let number = names.number(of: call.name, hint: call.request.commandNumber) else {
            return .failure(.commandNotFound(call.name))
        }
        let entry = entries[number]
        call.metricsSlot = entry.slot
        if call.request.isOOB && !entry.declaration.allowOOB {
            return .failure(.commandWithoutOOB(call.name))
        }
        switch schema.checkArguments(of: entry.declaration, call.request.arguments) {
        case .failure(let error):
            return .failure(error)
        case .success(let arguments):
            call.arguments = arguments
            return .success(entry.handler)
        }
    }
}
