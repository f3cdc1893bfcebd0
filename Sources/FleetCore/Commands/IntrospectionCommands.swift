import QMPWire

/// query-commands, query-qmp-schema, query-events: generated from the VM's
/// schema view, so a VM lists exactly the core plus its own plugins.
enum IntrospectionCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "query-commands": .immediate { context in
            .success(.array(context.vm.schema.commandNames.map { ["name": .string($0)] }))
        },
        "query-qmp-schema": .immediate { context in .success(context.vm.schema.introspection) },
        "query-events": .immediate { context in
            .success(.array(context.vm.schema.eventNames.map { ["name": .string($0)] }))
        },
        // Answered by the session during negotiation; in command mode the
        // session answers too. Listed here so it is part of the table.
        "qmp_capabilities": .immediate { _ in
            .failure(QMPError(.commandNotFound, "Capabilities negotiation is already complete, command ignored"))
        },
    ]
}
