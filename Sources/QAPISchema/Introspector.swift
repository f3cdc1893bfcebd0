import QMPWire

/// Builds `query-qmp-schema`'s SchemaInfo list as QEMU 7.2's
/// scripts/qapi/introspect.py does:
///
/// - commands and events first, in declaration order;
/// - then every type they reach, in the order first used, each type once;
/// - type names masked as numbers in order of first use ("0" is whatever
///   type the first command uses first: in QEMU that is `query-status`'s
///   empty argument object); builtins keep their names; arrays are named
///   `[element]`;
/// - every integer type shown as `int`;
/// - a union lists a variant of the empty object for each tag value it has
///   no branch for;
/// - members are inserted in the order introspect.py writes them, so that
///   our QDict-ordered writer puts them where QEMU does.
struct Introspector {
    let view: SchemaView
    private var masks: [String: String] = [:]
    private var queued: Set<TypeReference> = []
    private var queue: [TypeReference] = []
    /// QAPI's `q_empty`: arguments of commands without any, data of events without any.
    private static let empty = TypeReference.named("q_empty")

    init(view: SchemaView) {
        self.view = view
    }

    mutating func build() -> JSONValue {
        var entries: [JSONValue] = []
        for entity in view.entities {
            switch entity {
            case .command(let name):
                guard let (command, _) = view.command(name) else { continue }
                var info = JSONObject(minimumCapacity: 6)
                info["arg-type"] = .string(use(command.argumentType.map { .named($0) } ?? Self.empty))
                info["ret-type"] = .string(use(command.returnType ?? Self.empty))
                if command.allowOOB { info["allow-oob"] = true }
                entries.append(.object(tree(name, "command", info, features: command.features)))
            case .event(let name):
                guard let event = view.event(name) else { continue }
                let info: JSONObject = ["arg-type": .string(use(event.dataType.map { .named($0) } ?? Self.empty))]
                entries.append(.object(tree(name, "event", info, features: event.features)))
            }
        }
        var next = 0
        while next < queue.count {
            entries.append(.object(entity(for: queue[next])))
            next += 1
        }
        return .array(entries)
    }

    /// `_gen_tree`: adds the name (masked for named types), meta-type and features.
    private mutating func tree(_ name: String, _ metaType: String, _ info: JSONObject, features: [String]) -> JSONObject {
        var info = info
        let masked = ["command", "event", "builtin", "array"].contains(metaType) ? name : mask(name)
        info["name"] = .string(masked)
        info["meta-type"] = .string(metaType)
        if !features.isEmpty { info["features"] = .array(features.map { .string($0) }) }
        return info
    }

    private mutating func mask(_ name: String) -> String {
        if let m = masks[name] { return m }
        let m = String(masks.count)
        masks[name] = m
        return m
    }

    /// `_use_type`: queues a type on first use and returns its introspection name.
    private mutating func use(_ type: TypeReference) -> String {
        let type = Self.collapsingIntegers(type)
        if queued.insert(type).inserted { queue.append(type) }
        switch type {
        case .array(let element):
            return "[\(use(element))]"
        case .named(let name):
            return BuiltinType(rawValue: name) != nil ? name : mask(name)
        }
    }

    private static func collapsingIntegers(_ type: TypeReference) -> TypeReference {
        switch type {
        case .named(let name):
            return .named(BuiltinType(rawValue: name)?.introspectionName ?? name)
        case .array(.named(let name)):
            return .array(.named(BuiltinType(rawValue: name)?.introspectionName ?? name))
        case .array:
            return type
        }
    }

    private mutating func entity(for type: TypeReference) -> JSONObject {
        let name: String
        switch type {
        case .array(let element):
            let elementName = use(element)
            return tree("[\(elementName)]", "array", ["element-type": .string(elementName)], features: [])
        case .named(let n):
            name = n
        }
        if let builtin = BuiltinType(rawValue: name) {
            return tree(name, "builtin", ["json-type": .string(builtin.jsonType)], features: [])
        }
        if type == Self.empty {
            return tree(name, "object", ["members": []], features: [])
        }
        switch view.type(named: name) {
        case .enumeration(_, let values, let features)?:
            let info: JSONObject = [
                "members": .array(values.map { value in
                    var m: JSONObject = ["name": .string(value.name)]
                    if !value.features.isEmpty { m["features"] = .array(value.features.map { .string($0) }) }
                    return .object(m)
                }),
                "values": .array(values.map { .string($0.name) }),
            ]
            return tree(name, "enum", info, features: features)
        case .object(_, let members, let discriminator, let variants, let features)?:
            var info = JSONObject(minimumCapacity: 5)
            info["members"] = .array(members.map { member in
                var m = JSONObject(minimumCapacity: 4)
                m["name"] = .string(member.name)
                m["type"] = .string(use(member.type))
                if member.isOptional { m["default"] = .null }
                if !member.features.isEmpty { m["features"] = .array(member.features.map { .string($0) }) }
                return .object(m)
            })
            if let discriminator {
                info["tag"] = .string(discriminator)
                var all = variants
                if let tag = members.first(where: { $0.name == discriminator }),
                   case .enumeration(_, let values, _)? = view.type(named: tag.type.name) {
                    for value in values where !variants.contains(where: { $0.name == value.name }) {
                        all.append(Variant(name: value.name, type: Self.empty))
                    }
                }
                info["variants"] = .array(all.map { .object(["case": .string($0.name), "type": .string(use($0.type))]) })
            }
            return tree(name, "object", info, features: features)
        case .alternate(_, let alternatives, let features)?:
            let info: JSONObject = ["members": .array(alternatives.map { .object(["type": .string(use($0.type))]) })]
            return tree(name, "alternate", info, features: features)
        case nil:
            return tree(name, "object", ["members": []], features: [])
        }
    }
}
