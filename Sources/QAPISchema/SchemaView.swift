import QMPWire
import Synchronization

/// What one VM sees: the core module plus the plugin modules it has.
///
/// Commands and events must be unique across the modules; a type declared
/// in two modules must be declared the same way in both (plugins may share
/// QEMU's common types such as `SocketAddress`). VMs with the same module list
/// share one view, and its introspection is computed once.
public final class SchemaView: Sendable {
    let modules: [SchemaModule]
    private let commands: [String: (CommandDeclaration, SchemaModule)]
    let types: [String: TypeDeclaration]
    private let events: [String: EventDeclaration]
    public let commandNames: [String]
    public let eventNames: [String]
    private let introspectionCache = Mutex<JSONValue?>(nil)

    public init(modules: [SchemaModule]) throws(SchemaError) {
        var commands: [String: (CommandDeclaration, SchemaModule)] = [:]
        var events: [String: EventDeclaration] = [:]
        var types: [String: TypeDeclaration] = [:]
        var typeOwners: [String: String] = [:]
        var commandNames: [String] = []
        var eventNames: [String] = []
        for module in modules {
            for name in module.commandNames {
                if let (_, other) = commands[name] {
                    throw SchemaError("command '\(name)' is declared by both '\(other.name)' and '\(module.name)'")
                }
                commands[name] = (module.commands[name]!, module)
                commandNames.append(name)
            }
            for name in module.eventNames {
                if events[name] != nil {
                    throw SchemaError("event '\(name)' is declared by two modules (the second is '\(module.name)')")
                }
                events[name] = module.events[name]!
                eventNames.append(name)
            }
            for (name, declaration) in module.types {
                if let existing = types[name], existing != declaration {
                    throw SchemaError("type '\(name)' is declared differently by '\(typeOwners[name] ?? "?")' and '\(module.name)'")
                }
                types[name] = declaration
                typeOwners[name] = module.name
            }
        }
        self.modules = modules
        self.commands = commands
        self.events = events
        self.types = types
        self.commandNames = commandNames
        self.eventNames = eventNames
    }

    public func command(_ name: String) -> (CommandDeclaration, SchemaModule)? { commands[name] }

    public func event(_ name: String) -> EventDeclaration? { events[name] }

    func type(named name: String) -> TypeDeclaration? { types[name] }

    /// Checks a command's arguments as QEMU's QObject input visitor does,
    /// with QEMU 7.2's error texts. Returns the arguments (`{}` when absent).
    public func checkArguments(of command: CommandDeclaration, _ arguments: JSONObject?) -> Result<JSONObject, QMPError> {
        let args = arguments ?? JSONObject()
        guard let typeName = command.argumentType else {
            if !command.allowsAnyArguments, let first = QDictOrder.writeOrder(of: args).first {
                return .failure(.generic("Parameter '\(args.members[first].key)' is unexpected"))
            }
            return .success(args)
        }
        var checker = ArgumentChecker(view: self)
        do {
            try checker.checkObject(args, typeName: typeName, path: "", allowExtra: command.allowsAnyArguments)
            return .success(args)
        } catch {
            return .failure(error)
        }
    }

    /// Checks data against a QAPI member map (guest actions, device properties).
    public func check(_ data: JSONObject?, against members: JSONValue, context: String) -> Result<JSONObject, QMPError> {
        let object = data ?? JSONObject()
        let parsed: [SchemaMember]
        do {
            parsed = try SchemaMember.parse(members, context: context)
        } catch {
            return .failure(.generic("\(context): \(error.message)"))
        }
        var checker = ArgumentChecker(view: self)
        do {
            try checker.checkMembers(object, members: parsed, path: "", allowExtra: false)
            return .success(object)
        } catch {
            return .failure(error)
        }
    }

    /// `query-qmp-schema`'s return value, in QEMU 7.2's SchemaInfo format.
    public var introspection: JSONValue {
        if let cached = introspectionCache.withLock({ $0 }) { return cached }
        var introspector = Introspector(view: self)
        let value = introspector.build()
        introspectionCache.withLock { $0 = value }
        return value
    }
}
