import QMPWire

/// Collects a module's expressions, then flattens bases and checks that
/// every name a declaration uses exists.
struct SchemaModuleBuilder {
    /// A struct or union before its base is known.
    private struct PendingObject {
        let name: String
        let base: JSONValue?
        let members: [SchemaMember]
        let discriminator: String?
        let variants: [Variant]
        let features: [String]
    }

    let module: String
    private var pending: [PendingObject] = []
    private(set) var types: [String: TypeDeclaration] = [:]
    private(set) var commands: [String: CommandDeclaration] = [:]
    private(set) var events: [String: EventDeclaration] = [:]
    private(set) var entities: [SchemaEntity] = []
    /// The QAPI `if` of each command and event that has one.
    private(set) var conditions: [SchemaEntity: JSONValue] = [:]
    private var declaredTypeNames: Set<String> = []

    init(module: String) { self.module = module }

    private func fail(_ index: Int, _ message: String) -> SchemaError {
        SchemaError("schema '\(module)', expression \(index): \(message)")
    }

    mutating func add(_ expression: JSONValue, index: Int) throws(SchemaError) {
        guard case .object(let e) = expression else { throw fail(index, "not an object") }
        if e["include"] != nil || e["pragma"] != nil || e["guest-action"] != nil { return }
        let features = featureNames(e["features"])
        if let name = e["enum"]?.stringValue {
            try declareType(name, index)
            guard case .array(let list) = e["data"] ?? .null else { throw fail(index, "enum '\(name)': data must be an array") }
            var values: [EnumValue] = []
            for item in list {
                guard let value = item.stringValue ?? item["name"]?.stringValue else {
                    throw fail(index, "enum '\(name)': bad value \(item.jsonText)")
                }
                guard !values.contains(where: { $0.name == value }) else { throw fail(index, "enum '\(name)': value '\(value)' declared twice") }
                values.append(EnumValue(name: value, features: featureNames(item["features"])))
            }
            types[name] = .enumeration(name: name, values: values, features: features)
        } else if let name = e["struct"]?.stringValue {
            try declareType(name, index)
            let members = try SchemaMember.parse(e["data"] ?? .object([:]), context: "struct '\(name)'")
            pending.append(PendingObject(name: name, base: e["base"], members: members, discriminator: nil, variants: [], features: features))
        } else if let name = e["union"]?.stringValue {
            try declareType(name, index)
            guard let discriminator = e["discriminator"]?.stringValue else {
                throw fail(index, "union '\(name)' needs a discriminator")
            }
            guard e["base"] != nil else { throw fail(index, "union '\(name)' needs a base") }
            guard case .object(let data) = e["data"] ?? .object([:]) else { throw fail(index, "union '\(name)': data must be an object") }
            var variants: [Variant] = []
            for (value, type) in data {
                guard let typeName = type.stringValue ?? type["type"]?.stringValue else {
                    throw fail(index, "union '\(name)': variant '\(value)' must name a struct")
                }
                variants.append(Variant(name: value, type: .named(typeName)))
            }
            pending.append(PendingObject(name: name, base: e["base"], members: [], discriminator: discriminator, variants: variants, features: features))
        } else if let name = e["alternate"]?.stringValue {
            try declareType(name, index)
            guard case .object(let data) = e["data"] ?? .null else { throw fail(index, "alternate '\(name)': data must be an object") }
            var alternatives: [Variant] = []
            for (branch, type) in data {
                alternatives.append(Variant(name: branch, type: try TypeReference(type["type"] ?? type, context: "alternate '\(name)'")))
            }
            types[name] = .alternate(name: name, alternatives: alternatives, features: features)
        } else if let name = e["command"]?.stringValue {
            guard commands[name] == nil else { throw fail(index, "command '\(name)' declared twice") }
            let argumentType = try implicitType(e["data"], owner: name, role: "command")
            let returns = try e["returns"].map { v throws(SchemaError) in try TypeReference(v, context: "command '\(name)' returns") }
            commands[name] = CommandDeclaration(
                name: name, argumentType: argumentType, returnType: returns,
                allowsAnyArguments: e["gen"]?.boolValue == false,
                allowPreconfig: e["allow-preconfig"]?.boolValue ?? false,
                allowOOB: e["allow-oob"]?.boolValue ?? false,
                features: features)
            entities.append(.command(name))
            if let condition = e["if"] { conditions[.command(name)] = condition }
        } else if let name = e["event"]?.stringValue {
            guard events[name] == nil else { throw fail(index, "event '\(name)' declared twice") }
            let dataType = try implicitType(e["data"], owner: name, role: "event")
            events[name] = EventDeclaration(name: name, dataType: dataType, features: features)
            entities.append(.event(name))
            if let condition = e["if"] { conditions[.event(name)] = condition }
        } else {
            throw fail(index, "unknown expression \(expression.jsonText)")
        }
    }

    /// A command's or event's `data`: a type name (boxed), or a member map
    /// that becomes an implicit struct named as QEMU names it; no members
    /// means no type (introspection shows the empty object).
    private mutating func implicitType(_ data: JSONValue?, owner: String, role: String) throws(SchemaError) -> String? {
        switch data {
        case .string(let typeName)?:
            return typeName
        case .object(let members)? where !members.isEmpty:
            let implicit = "q_obj_\(owner)-arg"
            let parsed = try SchemaMember.parse(.object(members), context: "\(role) '\(owner)'")
            pending.append(PendingObject(name: implicit, base: nil, members: parsed, discriminator: nil, variants: [], features: []))
            return implicit
        case nil, .object?:
            return nil
        case let other?:
            throw SchemaError("schema '\(module)': \(role) '\(owner)': data must be an object or a type name, not \(other.jsonText)")
        }
    }

    private mutating func declareType(_ name: String, _ index: Int) throws(SchemaError) {
        guard !name.isEmpty, BuiltinType(rawValue: name) == nil, name != "QType", declaredTypeNames.insert(name).inserted else {
            throw fail(index, "type '\(name)' declared twice")
        }
    }

    /// Flattens bases (a union's base holds its discriminator) and checks
    /// that every referenced type exists.
    mutating func resolve(dependencies: [SchemaModule]) throws(SchemaError) {
        var unresolved = pending
        var progress = true
        while !unresolved.isEmpty && progress {
            progress = false
            var remaining: [PendingObject] = []
            for s in unresolved {
                var baseMembers: [SchemaMember] = []
                switch s.base {
                case nil:
                    break
                case .string(let baseName)?:
                    guard let base = lookup(baseName, dependencies) else {
                        if unresolved.contains(where: { $0.name == baseName }) {
                            remaining.append(s)
                            continue
                        }
                        throw SchemaError("schema '\(module)': '\(s.name)' has unknown base '\(baseName)'")
                    }
                    guard case .object(_, let members, nil, _, _) = base else {
                        throw SchemaError("schema '\(module)': base '\(baseName)' of '\(s.name)' is not a struct")
                    }
                    baseMembers = members
                case let inline?:
                    baseMembers = try SchemaMember.parse(inline, context: "base of '\(s.name)'")
                }
                for m in s.members where baseMembers.contains(where: { $0.name == m.name }) {
                    throw SchemaError("schema '\(module)': '\(s.name)' member '\(m.name)' clashes with its base")
                }
                types[s.name] = .object(name: s.name, members: baseMembers + s.members, discriminator: s.discriminator,
                                        variants: s.variants, features: s.features)
                progress = true
            }
            unresolved = remaining
        }
        if let first = unresolved.first {
            throw SchemaError("schema '\(module)': cannot resolve the base of '\(first.name)'")
        }
        for declaration in types.values {
            try checkReferences(declaration, dependencies)
        }
        for command in commands.values {
            if let a = command.argumentType { try checkArgumentType(a, "command '\(command.name)'", dependencies) }
            if let r = command.returnType { try checkExists(r, "command '\(command.name)'", dependencies) }
        }
        for event in events.values {
            if let d = event.dataType { try checkArgumentType(d, "event '\(event.name)'", dependencies) }
        }
    }

    private func lookup(_ name: String, _ dependencies: [SchemaModule]) -> TypeDeclaration? {
        if let t = types[name] { return t }
        for d in dependencies { if let t = d.type(named: name) { return t } }
        return name == "QType" ? .qtype : nil
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

    /// Boxed arguments and event data must be a struct or union.
    private func checkArgumentType(_ name: String, _ context: String, _ dependencies: [SchemaModule]) throws(SchemaError) {
        try checkExists(.named(name), context, dependencies)
        guard case .object? = lookup(name, dependencies) else {
            throw SchemaError("schema '\(module)': \(context): data type '\(name)' is not a struct or union")
        }
    }

    private func checkReferences(_ declaration: TypeDeclaration, _ dependencies: [SchemaModule]) throws(SchemaError) {
        switch declaration {
        case .enumeration:
            return
        case .object(let name, let members, let discriminator, let variants, _):
            for m in members { try checkExists(m.type, "'\(name)'", dependencies) }
            guard let discriminator else { return }
            guard let tag = members.first(where: { $0.name == discriminator }), !tag.isOptional,
                  case .named(let tagType) = tag.type,
                  case .enumeration(_, let values, _)? = lookup(tagType, dependencies) else {
                throw SchemaError("schema '\(module)': union '\(name)' discriminator '\(discriminator)' must be a required enum member of its base")
            }
            for v in variants {
                try checkExists(v.type, "union '\(name)'", dependencies)
                guard values.contains(where: { $0.name == v.name }) else {
                    throw SchemaError("schema '\(module)': union '\(name)' branch '\(v.name)' is not a value of '\(tagType)'")
                }
                guard case .object? = lookup(v.type.name, dependencies) else {
                    throw SchemaError("schema '\(module)': union '\(name)' branch '\(v.name)' must be a struct or union")
                }
            }
        case .alternate(let name, let alternatives, _):
            for a in alternatives { try checkExists(a.type, "alternate '\(name)'", dependencies) }
        }
    }
}

extension TypeReference {
    /// The name of a named type (variants are always named).
    var name: String {
        switch self {
        case .named(let n): return n
        case .array(let e): return "[\(e.name)]"
        }
    }
}
