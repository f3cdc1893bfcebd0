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
    public let commandNames: [String]
    public let eventNames: [String]
    /// Modules whose types this one may use (the core).
    let dependencies: [SchemaModule]

    public init(name: String, expressions: JSONValue, dependencies: [SchemaModule] = []) throws(SchemaError) {
        guard case .array(let list) = expressions else {
            throw SchemaError("schema '\(name)': expected a JSON array of QAPI expressions")
        }
        var builder = SchemaModuleBuilder(module: name)
        for (index, expression) in list.enumerated() {
            try builder.add(expression, index: index)
        }
        let resolved = try builder.resolve(dependencies: dependencies)
        self.name = name
        self.types = resolved.types
        self.commands = resolved.commands
        self.events = resolved.events
        self.commandNames = resolved.commandOrder
        self.eventNames = resolved.eventOrder
        self.dependencies = dependencies
    }

    public func command(_ name: String) -> CommandDeclaration? { commands[name] }
    public func event(_ name: String) -> EventDeclaration? { events[name] }

    /// A type visible from this module: its own, then its dependencies'.
    func type(named name: String) -> TypeDeclaration? {
        if let t = types[name] { return t }
        for dependency in dependencies {
            if let t = dependency.type(named: name) { return t }
        }
        return nil
    }
}

/// Collects a module's expressions, then resolves bases and checks references.
struct SchemaModuleBuilder {
    let module: String
    private var structs: [(name: String, base: JSONValue?, members: [SchemaMember], discriminator: String?, variants: [(String, String)])] = []
    var types: [String: TypeDeclaration] = [:]
    var commands: [String: CommandDeclaration] = [:]
    var events: [String: EventDeclaration] = [:]
    var commandOrder: [String] = []
    var eventOrder: [String] = []
    private var declaredTypeNames: Set<String> = []

    init(module: String) { self.module = module }

    private func fail(_ index: Int, _ message: String) -> SchemaError {
        SchemaError("schema '\(module)', expression \(index): \(message)")
    }

    mutating func add(_ expression: JSONValue, index: Int) throws(SchemaError) {
        guard case .object(let e) = expression else { throw fail(index, "not an object") }
        if e["include"] != nil || e["pragma"] != nil { return }
        if let name = e["enum"]?.stringValue {
            let values = (e["data"]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["name"]?.stringValue }
            try declareType(name, index)
            types[name] = .enumeration(name: name, values: values)
        } else if let name = e["struct"]?.stringValue {
            try declareType(name, index)
            let members = try SchemaMember.parse(e["data"] ?? .object([:]), context: "struct '\(name)'")
            structs.append((name, e["base"], members, nil, []))
        } else if let name = e["union"]?.stringValue {
            try declareType(name, index)
            guard let discriminator = e["discriminator"]?.stringValue else {
                throw fail(index, "union '\(name)' needs a discriminator (only flat unions are supported)")
            }
            guard case .object(let data) = e["data"] ?? .object([:]) else { throw fail(index, "union '\(name)': data must be an object") }
            var variants: [(String, String)] = []
            for (value, type) in data {
                guard let typeName = type.stringValue ?? type["type"]?.stringValue else {
                    throw fail(index, "union '\(name)': variant '\(value)' must name a struct")
                }
                variants.append((value, typeName))
            }
            structs.append((name, e["base"], [], discriminator, variants))
        } else if let name = e["alternate"]?.stringValue {
            try declareType(name, index)
            guard case .object(let data) = e["data"] ?? .null else { throw fail(index, "alternate '\(name)': data must be an object") }
            var alternatives: [(String, TypeReference)] = []
            for (branch, type) in data {
                alternatives.append((branch, try TypeReference(type["type"] ?? type, context: "alternate '\(name)'")))
            }
            types[name] = .alternate(name: name, alternatives: alternatives)
        } else if let name = e["command"]?.stringValue {
            guard commands[name] == nil else { throw fail(index, "command '\(name)' declared twice") }
            var argumentType: String?
            switch e["data"] {
            case .string(let typeName)?:
                argumentType = typeName
            case .object(let members)? where !members.isEmpty:
                let implicit = "q_obj_\(name)-arg"
                structs.append((implicit, nil, try SchemaMember.parse(.object(members), context: "command '\(name)'"), nil, []))
                argumentType = implicit
            default:
                argumentType = nil
            }
            let returns = try e["returns"].map { v throws(SchemaError) in try TypeReference(v, context: "command '\(name)' returns") }
            commands[name] = CommandDeclaration(
                name: name, argumentType: argumentType, returnType: returns,
                allowsAnyArguments: e["gen"]?.boolValue == false,
                allowPreconfig: e["allow-preconfig"]?.boolValue ?? false,
                allowOOB: e["allow-oob"]?.boolValue ?? false,
                features: (e["features"]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["name"]?.stringValue })
            commandOrder.append(name)
        } else if let name = e["event"]?.stringValue {
            guard events[name] == nil else { throw fail(index, "event '\(name)' declared twice") }
            var dataType: String?
            switch e["data"] {
            case .string(let typeName)?:
                dataType = typeName
            case .object(let members)? where !members.isEmpty:
                let implicit = "q_obj_\(name)-arg"
                structs.append((implicit, nil, try SchemaMember.parse(.object(members), context: "event '\(name)'"), nil, []))
                dataType = implicit
            default:
                dataType = nil
            }
            events[name] = EventDeclaration(name: name, dataType: dataType)
            eventOrder.append(name)
        } else {
            throw fail(index, "unknown expression \(expression.jsonText)")
        }
    }

    private mutating func declareType(_ name: String, _ index: Int) throws(SchemaError) {
        guard declaredTypeNames.insert(name).inserted, BuiltinType(rawValue: name) == nil else {
            throw fail(index, "type '\(name)' declared twice")
        }
    }

    /// Flattens bases (a union's base holds its discriminator) and checks
    /// that every referenced type exists.
    mutating func resolve(dependencies: [SchemaModule]) throws(SchemaError) -> SchemaModuleBuilder {
        var pending = structs
        var progress = true
        while !pending.isEmpty && progress {
            progress = false
            var remaining: [(name: String, base: JSONValue?, members: [SchemaMember], discriminator: String?, variants: [(String, String)])] = []
            for s in pending {
                var baseMembers: [SchemaMember] = []
                switch s.base {
                case nil:
                    break
                case .string(let baseName)?:
                    guard let base = lookup(baseName, dependencies) else {
                        if structs.contains(where: { $0.name == baseName }) {
                            remaining.append(s)
                            continue
                        }
                        throw SchemaError("schema '\(module)': '\(s.name)' has unknown base '\(baseName)'")
                    }
                    guard case .object(_, let members, _, _) = base else {
                        throw SchemaError("schema '\(module)': base '\(baseName)' of '\(s.name)' is not a struct")
                    }
                    baseMembers = members
                case let inline?:
                    baseMembers = try SchemaMember.parse(inline, context: "base of '\(s.name)'")
                }
                types[s.name] = .object(name: s.name, members: baseMembers + s.members, discriminator: s.discriminator,
                                        variants: s.variants.map { (value: $0.0, type: $0.1) })
                progress = true
            }
            pending = remaining
        }
        if let unresolved = pending.first {
            throw SchemaError("schema '\(module)': cannot resolve the base of '\(unresolved.name)'")
        }
        for declaration in types.values {
            try checkReferences(declaration, dependencies)
        }
        for command in commands.values {
            if let a = command.argumentType { try checkExists(.named(a), "command '\(command.name)'", dependencies) }
            if let r = command.returnType { try checkExists(r, "command '\(command.name)'", dependencies) }
        }
        for event in events.values {
            if let d = event.dataType { try checkExists(.named(d), "event '\(event.name)'", dependencies) }
        }
        return self
    }

    private func lookup(_ name: String, _ dependencies: [SchemaModule]) -> TypeDeclaration? {
        if let t = types[name] { return t }
        for d in dependencies { if let t = d.type(named: name) { return t } }
        return nil
    }

    private func checkExists(_ ref: TypeReference, _ context: String, _ dependencies: [SchemaModule]) throws(SchemaError) {
        switch ref {
        case .array(let element):
            try checkExists(element, context, dependencies)
        case .named(let name):
            if BuiltinType(rawValue: name) != nil || lookup(name, dependencies) != nil { return }
            throw SchemaError("schema '\(module)': \(context) uses unknown type '\(name)'")
        }
    }

    private func checkReferences(_ declaration: TypeDeclaration, _ dependencies: [SchemaModule]) throws(SchemaError) {
        switch declaration {
        case .enumeration:
            return
        case .object(let name, let members, let discriminator, let variants):
            for m in members { try checkExists(m.type, "'\(name)'", dependencies) }
            for v in variants { try checkExists(.named(v.type), "union '\(name)'", dependencies) }
            if let discriminator, !members.contains(where: { $0.name == discriminator }) {
                throw SchemaError("schema '\(module)': union '\(name)' discriminator '\(discriminator)' is not a base member")
            }
        case .alternate(let name, let alternatives):
            for a in alternatives { try checkExists(a.type, "alternate '\(name)'", dependencies) }
        }
    }
}
