import QAPISchema
import QMPWire

/// The commands every VM has, whatever its plugins: the union of the
/// per-concern handler tables, and their QAPI declarations (the embedded
/// `Resources/core-schema.json`).
enum CoreCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = {
        var all: [String: CommandHandler] = [:]
        for table in [
            RunStateCommands.handlers, LifecycleCommands.handlers, GuestMemoryCommands.handlers, MachineQueries.handlers, IntrospectionCommands.handlers,
            HumanMonitorCommand.handlers, DeviceCommands.handlers, ObjectCommands.handlers,
            QOMCommands.handlers, FDCommands.handlers, ProbeCommands.handlers,
            QOMSet.handlers, BalloonCommands.handlers, MouseQuery.handlers, PasswordCommands.handlers,
            StatsQueries.handlers, NUMAConfiguration.handlers, SEVLaunchSecret.handlers, YankCommands.handlers,
            BoardQueries.handlers, ConfidentialGuestQueries.handlers, AddClientCommand.handlers, VirtioQueries.handlers,
        ] {
            all.merge(table) { first, _ in first }
        }
        return all
    }()

    /// The core schema module, parsed once per process.
    static func loadSchema() throws(FleetError) -> SchemaModule {
        do {
            let value = try JSONValue(parsing: PackageResources.core_schema_json)
            return try SchemaModule(name: "core", expressions: value)
        } catch let error as SchemaError {
            throw FleetError.plugin("core schema: \(error.message)")
        } catch {
            throw FleetError.plugin("core schema: \(error)")
        }
    }
}
