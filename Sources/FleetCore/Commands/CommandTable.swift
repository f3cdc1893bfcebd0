import PluginHost
import QAPISchema
import QMPWire

/// The commands of VMs that have the same plugins: one schema view and one
/// handler map, shared by all of them (10,000 VMs of one template share one).
public final class CommandTable {
    public var schema: SchemaView { commands.schema }
    public let plugins: [PluginLibrary]
    /// Core and plugin handlers with their declarations: one hash lookup
    /// per request, not one in the schema and one in the handlers.
    let commands: CommandDispatch<CommandHandler>

    /// - Throws: `FleetError.plugin` when two plugins declare the same name.
    /// - Parameter target: QEMU's target (`query-target`): declarations whose
    ///   QAPI `if` names other targets are not this table's.
    init(core: SchemaModule, coreHandlers: [String: CommandHandler], plugins: [PluginLibrary], target: String = "x86_64") throws(FleetError) {
        let onTarget = { (condition: JSONValue) in QAPICondition.holds(condition, target: target) }
        let schema: SchemaView
        do {
            schema = try SchemaView(modules: [core.conditioned(on: onTarget)] + plugins.map { $0.schema.conditioned(on: onTarget) })
        } catch {
            throw FleetError.plugin("plugins \(plugins.map(\.name)) cannot be combined: \(error.message)")
        }
        var handlers = coreHandlers
        for (index, plugin) in plugins.enumerated() {
            for (name, fn) in plugin.commandHandlers {
                handlers[name] = .plugin(plugin, fn, instance: index)
            }
        }
        commands = CommandDispatch(schema: schema, handlers: handlers, slot: CommandSlots.slot)
        self.plugins = plugins
    }

    /// The handler and declaration of `name`, if this VM has the command.
    func lookup(_ name: String) -> (CommandHandler, CommandDeclaration)? {
        commands.lookup(name)
    }
}
