import QAPISchema
import QMPWire

/// The commands of VMs that have the same plugins: one schema view and one
/// handler map, shared by all of them (10,000 VMs of one template share one).
public final class CommandTable {
    public let schema: SchemaView
    public let plugins: [PluginLibrary]
    private let handlers: [String: CommandHandler]

    /// - Throws: `FleetError.plugin` when two plugins declare the same name.
    init(core: SchemaModule, coreHandlers: [String: CommandHandler], plugins: [PluginLibrary]) throws(FleetError) {
        do {
            schema = try SchemaView(modules: [core] + plugins.map(\.schema))
        } catch {
            throw FleetError.plugin("plugins \(plugins.map(\.name)) cannot be combined: \(error.message)")
        }
        var handlers = coreHandlers
        for plugin in plugins {
            for (name, fn) in plugin.commandHandlers {
                handlers[name] = .plugin(plugin, fn)
            }
        }
        self.handlers = handlers
        self.plugins = plugins
    }

    /// The handler and declaration of `name`, if this VM has the command.
    func lookup(_ name: String) -> (CommandHandler, CommandDeclaration)? {
        guard let (declaration, _) = schema.command(name), let handler = handlers[name] else { return nil }
        return (handler, declaration)
    }
}
