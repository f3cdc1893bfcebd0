import QMPWire

/// Builds `query-qmp-schema`'s SchemaInfo list the way QEMU's
/// scripts/qapi/introspect.py does: commands and events by name, every type
/// they reach, non-builtin type names masked as numbers ("0" is the empty
/// object of commands without arguments), arrays named `[element]`.
struct Introspector {
    let view: SchemaView
    private var masked: [String: String] = [:]
    private var emitted: Set<String> = []
    private var pending: [String] = []
    private var entities: [JSONValue] = []
    private static let empty = "q_empty"

    init(view: SchemaView) {
        self.view = view
        masked[Self.empty] = "0"
    }

    mutating func build() -> JSONValue {
        for name in view.commandNames {
            guard let (command, _) = view.command(name) else { continue }
            var info: JSONObject = ["name": .string(name), "meta-type": "command"]
            info["arg-type"] = .string(use(.named(command.argumentType ?? Self.empty)))
            info["ret-type"] = .string(use(command.returnType ?? .named(Self.empty)))
            if command.allowOOB { info["allow-oob"] = true }
            if !command.features.isEmpty { info["features"] = .array(command.features.map { .string($0) }) }
            entities.append(.object(info))
        }
        for name in view.eventNames {
            guard let event = view.event(name) else { continue }
            entities.append(["name": .string(name), "meta-type": "event", "arg-type": .string(use(.named(event.dataType ?? Self.empty)))])
        }
        while let next = pending.first {
            pending.removeFirst()
            entities.append(entity(for: next))
        }
        return .array(entities)
    }

    /// The introspection name of a type, queuing its entity on first use.
    private mutating func use(_ type: TypeReference) -> String {
        switch type {
        case .array(let element):
            let name = "[\(use(element))]"
            if emitted.insert(name).inserted {
                entities.append(["name": .string(name), "meta-type": "array", "element-type": .string(String(name.dropFirst().dropLast()))])
            }
            return name
        case .named(let name):
            if BuiltinType(rawValue: name) != nil {
                if emitted.insert(name).inserted { pending.append(name) }
                return name
            }
            let maskedName: String
            if let m = masked[name] {
                maskedName = m
            } else {
                maskedName = String(masked.count)
                masked[name] = maskedName
            }
            if emitted.insert(name).inserted { pending.append(name) }
            return maskedName
        }
    }

    private mutating func entity(for name: String) -> JSONValue {
        if let builtin = BuiltinType(rawValue: name) {
            return ["name": .string(name), "meta-type": "builtin", "json-type": .string(builtin.jsonType)]
        }
        let maskedName = JSONValue.string(masked[name] ?? name)
        if name == Self.empty {
            return ["name": maskedName, "meta-type": "object", "members": []]
        }
        switch view.type(named: name) {
        case .enumeration(_, let values)?:
            return ["name": maskedName, "meta-type": "enum",
                    "members": .array(values.map { ["name": .string($0)] }),
                    "values": .array(values.map { .string($0) })]
        case .object(_, let members, let discriminator, let variants)?:
            var info: JSONObject = ["name": maskedName, "meta-type": "object"]
            info["members"] = .array(members.map { member in
                var m: JSONObject = ["name": .string(member.name), "type": .string(use(member.type))]
                if member.isOptional { m["default"] = .null }
                if !member.features.isEmpty { m["features"] = .array(member.features.map { .string($0) }) }
                return .object(m)
            })
            if let discriminator {
                info["tag"] = .string(discriminator)
                info["variants"] = .array(variants.map { ["case": .string($0.value), "type": .string(use(.named($0.type)))] })
            }
            return .object(info)
        case .alternate(_, let alternatives)?:
            return ["name": maskedName, "meta-type": "alternate",
                    "members": .array(alternatives.map { ["type": .string(use($0.type))] })]
        case nil:
            return ["name": maskedName, "meta-type": "object", "members": []]
        }
    }
}
