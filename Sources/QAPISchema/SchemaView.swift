import QMPWire
import SharedValues

/// What one VM sees: the core module plus the plugin modules it has.
///
/// Commands and events must be unique across the modules; a type declared
/// in two modules must be declared the same way in both (plugins may share
/// QEMU's common types such as `SocketAddress`). The one exception: a plugin
/// may take over a command of the first module (the core) by declaring it
/// exactly as the core does; its handler then serves it (the CPU hotplug
/// plugin answers `query-cpus-fast` with the vCPUs it plugged). VMs with the same module list
/// share one view, and its introspection is computed once.
///
/// ```swift
/// let view = try SchemaView(modules: [core, blockPlugin])
/// let (resize, _) = view.command("block_resize")!
/// view.checkArguments(of: resize, ["device": "d"])
/// // .failure(GenericError "Parameter 'size' is missing")
/// ```
public final class SchemaView: Sendable {
    let modules: [SchemaModule]
    private let commands: [String: (CommandDeclaration, SchemaModule)]
    private let types: [String: TypeDeclaration]
    private let events: [String: EventDeclaration]
    /// Commands and events, module by module in declaration order.
    let entities: [SchemaEntity]
    public let commandNames: [String]
    public let eventNames: [String]
    private let introspectionCache = Locked<JSONValue?>(nil)

    public init(modules: [SchemaModule]) throws(SchemaError) {
        var commands: [String: (CommandDeclaration, SchemaModule)] = [:]
        var events: [String: (EventDeclaration, SchemaModule)] = [:]
        var types: [String: (TypeDeclaration, SchemaModule)] = [:]
        var entities: [SchemaEntity] = []
        for module in modules {
            for entity in module.entities {
                switch entity {
                case .command(let name):
                    guard let declaration = module.commands[name] else { continue }
                    if let (existing, other) = commands[name] {
                        guard other === modules.first, existing == declaration else {
                            throw SchemaError("command '\(name)' is declared by both '\(other.name)' and '\(module.name)'")
                        }
                        // A plugin takes over a core command it declares the same way.
                        commands[name] = (declaration, module)
                        continue
                    }
                    commands[name] = (declaration, module)
                case .event(let name):
                    guard let declaration = module.events[name] else { continue }
                    if let (_, other) = events[name] {
                        throw SchemaError("event '\(name)' is declared by both '\(other.name)' and '\(module.name)'")
                    }
                    events[name] = (declaration, module)
                }
                entities.append(entity)
            }
            for (name, declaration) in module.types {
                if let (existing, other) = types[name], existing != declaration {
                    throw SchemaError("type '\(name)' is declared differently by '\(other.name)' and '\(module.name)'")
                }
                types[name] = (declaration, module)
            }
        }
        self.modules = modules
        self.commands = commands
        self.events = events.mapValues(\.0)
        self.types = types.mapValues(\.0)
        self.entities = entities
        self.commandNames = entities.compactMap { if case .command(let n) = $0 { n } else { nil } }
        self.eventNames = entities.compactMap { if case .event(let n) = $0 { n } else { nil } }
    }

    public func command(_ name: String) -> (CommandDeclaration, SchemaModule)? { commands[name] }

    public func event(_ name: String) -> EventDeclaration? { events[name] }

    /// A type of any module in the view, or of a module's dependencies.
    func type(named name: String) -> TypeDeclaration? {
        if let t = types[name] { return t }
        for module in modules {
            if let t = module.type(named: name) { return t }
        }
        return nil
    }

    /// Checks a command's arguments as QEMU's QObject input visitor does,
    /// with QEMU 7.2's error texts (all GenericError). Absent arguments and
    /// `{}` are the same; `null` for an optional member is a type error, as
    /// in QEMU. Returns the arguments (`{}` when absent).
    public func checkArguments(of command: CommandDeclaration, _ arguments: JSONObject?) -> Result<JSONObject, QMPError> {
        let args = arguments ?? JSONObject()
        let checker = ArgumentChecker(view: self)
        do {
            if let typeName = command.argumentType {
                try checker.checkObject(args, typeName: typeName, at: .root, allowExtra: command.allowsAnyArguments)
            } else if !command.allowsAnyArguments {
                try checker.checkMembers(args, members: [], allowExtra: false)
            }
            return .success(args)
        } catch {
            return .failure(error)
        }
    }

    /// Checks data against a QAPI member map (guest actions, device
    /// properties, event data), with the same texts as `checkArguments`.
    /// A malformed member map is reported as a GenericError naming `context`.
    public func check(_ data: JSONObject?, against members: JSONValue, context: String) -> Result<JSONObject, QMPError> {
        let object = data ?? JSONObject()
        let parsed: [SchemaMember]
        do {
            parsed = try SchemaMember.parse(members, context: context)
        } catch {
            return .failure(.generic(error.message))
        }
        do {
            try ArgumentChecker(view: self).checkMembers(object, members: parsed, allowExtra: false)
            return .success(object)
        } catch {
            return .failure(error)
        }
    }

    /// `query-qmp-schema`'s return value for this view's commands and
    /// events, in QEMU 7.2's SchemaInfo format. Built on first use, then
    /// shared by every VM with this view.
    public var introspection: JSONValue {
        if let cached = introspectionCache.withLock({ $0 }) { return cached }
        var introspector = Introspector(view: self)
        let value = introspector.build()
        introspectionCache.withLock { $0 = $0 ?? value }
        return introspectionCache.withLock { $0 ?? value }
    }
}
