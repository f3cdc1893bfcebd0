import QAPIRuntime
import QMPWire

/// query-commands, query-qmp-schema, query-events: generated from the VM's
/// schema view, so a VM lists exactly the core plus its own plugins.
enum IntrospectionCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryCommandsCommand.self) { context, _ in
            .success(.array(context.vm.schema.commandNames.map { ["name": .string($0)] }))
        },
        .immediate(QAPI.QueryQmpSchemaCommand.self) { context, _ in .success(context.vm.schema.introspection) },
        .immediate(QAPI.QueryEventsCommand.self) { context, _ in
            .success(.array(context.vm.schema.eventNames.map { ["name": .string($0)] }))
        },
        // Answered by the session during negotiation; in command mode the
        // session answers too. Listed here so it is part of the table.
        .immediate(QAPI.QmpCapabilitiesCommand.self) { _, args in
            .failure(QMPError(.commandNotFound, "Capabilities negotiation is already complete, command ignored"))
        },
    ]
}
