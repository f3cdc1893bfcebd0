import QMPWire

/// The declarations of one module: the core, or one plugin's `schema.json`.
///
/// Immutable once built, and shared by every VM that uses it: 10,000 VMs of
/// one template hold no copy of it.
///
/// ```swift
/// let module = try SchemaModule(name: "demo", expressions: [
///     ["command": "block_resize", "data": ["*device": "str", "size": "int"]],
/// ])
/// module.commandNames   // ["block_resize"]
/// ```
public final class SchemaModule: Sendable {
    public let name: String
    let types: [String: TypeDeclaration]
    let commands: [String: CommandDeclaration]
    let events: [String: EventDeclaration]
    /// Commands and events in declaration order (introspection lists them so).
    let entities: [SchemaEntity]
    public let commandNames: [String]
    public let eventNames: [String]
    /// Modules whose types this one may use (the core).
    let dependencies: [SchemaModule]
    /// The QAPI `if` of the commands and events that have one.
    let conditions: [SchemaEntity: JSONValue]

    /// - Parameters:
    ///   - expressions: a JSON array of QAPI expressions (`include`,
    ///     `pragma` and `if` are accepted and ignored, and so is a plugin's
    ///     `guest-action`, which is not QAPI: its member map reaches the host
    ///     when the action is registered, and scripts/qapi-gen types it).
    ///   - dependencies: modules whose types these expressions may name.
    /// - Throws: `SchemaError` for a malformed expression, a name declared
    ///   twice, or a reference to a type neither this module nor its
    ///   dependencies declare.
    public init(name: String, expressions: JSONValue, dependencies: [SchemaModule] = []) throws(SchemaError) {
        guard case .array(let list) = expressions else {
            throw SchemaError("schema '\(name)': expected a JSON array of QAPI expressions")
        }
        var builder = SchemaModuleBuilder(module: name)
        for (index, expression) in list.enumerated() {
            try builder.add(expression, index: index)
        }
        try builder.resolve(dependencies: dependencies)
        self.name = name
        self.types = builder.types
        self.commands = builder.commands
        self.events = builder.events
        self.entities = builder.entities
        self.commandNames = builder.entities.compactMap { if case .command(let n) = $0 { n } else { nil } }
        self.eventNames = builder.entities.compactMap { if case .event(let n) = $0 { n } else { nil } }
        self.dependencies = dependencies
        self.conditions = builder.conditions
    }

    private init(_ module: SchemaModule, dropping dropped: Set<SchemaEntity>) {
        name = module.name
        types = module.types
        commands = module.commands.filter { !dropped.contains(.command($0.key)) }
        events = module.events.filter { !dropped.contains(.event($0.key)) }
        entities = module.entities.filter { !dropped.contains($0) }
        commandNames = entities.compactMap { if case .command(let n) = $0 { n } else { nil } }
        eventNames = entities.compactMap { if case .event(let n) = $0 { n } else { nil } }
        dependencies = module.dependencies
        conditions = [:]
    }

    /// This module as one build of QEMU has it: the commands and events
    /// whose `if` does not hold (`holds` decides, e.g. on the target) are
    /// left out, as QEMU's generator leaves them out of that build. `self`
    /// when every condition holds.
    public func conditioned(on holds: (JSONValue) -> Bool) -> SchemaModule {
        let dropped = Set(conditions.filter { !holds($0.value) }.keys)
        return dropped.isEmpty ? self : SchemaModule(self, dropping: dropped)
    }

    public func command(_ name: String) -> CommandDeclaration? { commands[name] }
    public func event(_ name: String) -> EventDeclaration? { events[name] }

    /// A type visible from this module: its own, then its dependencies'.
    func type(named name: String) -> TypeDeclaration? {
        if let t = types[name] { return t }
        for dependency in dependencies {
            if let t = dependency.type(named: name) { return t }
        }
        return name == "QType" ? .qtype : nil
    }
}
