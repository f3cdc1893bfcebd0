import QAPIRuntime
import QAPISchema
import QMPWire

/// The commands every VM has, whatever its plugins: the union of the
/// per-concern bindings (each through its generated `QAPI.<Name>Command`), and their QAPI declarations (the embedded
/// `Resources/core-schema.json`).
enum CoreCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = CommandBinding.table(
        RunStateCommands.bindings + LifecycleCommands.bindings + GuestMemoryCommands.bindings + MachineQueries.bindings
            + IntrospectionCommands.bindings + HumanMonitorCommand.bindings + DeviceCommands.bindings + ObjectCommands.bindings
            + QOMCommands.bindings + FDCommands.bindings + ProbeCommands.bindings + QOMSet.bindings + BalloonCommands.bindings
            + MouseQuery.bindings + PasswordCommands.bindings + StatsQueries.bindings + NUMAConfiguration.bindings
            + SEVLaunchSecret.bindings + YankCommands.bindings + BoardQueries.bindings + ConfidentialGuestQueries.bindings
            + AddClientCommand.bindings + VirtioQueries.bindings
    )

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
