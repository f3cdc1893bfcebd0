import QMPWire

/// One value of an enum, with its features (`{"name": "x-colo", "features": ["unstable"]}`).
struct EnumValue: Sendable, Equatable {
    let name: String
    let features: [String]
}

/// One branch of a union (`"file": "BlockdevOptionsFile"`) or of an
/// alternate (`"s": "str"`): a name and the type it selects.
struct Variant: Sendable, Equatable {
    let name: String
    let type: TypeReference
}

/// A named type a schema declares.
enum TypeDeclaration: Sendable, Equatable {
    case enumeration(name: String, values: [EnumValue], features: [String])
    /// A struct, or a union's base plus variants: members first (a base's
    /// members flattened in front), then the members of the variant the
    /// discriminator selects.
    case object(name: String, members: [SchemaMember], discriminator: String?, variants: [Variant], features: [String])
    case alternate(name: String, alternatives: [Variant], features: [String])

    var name: String {
        switch self {
        case .enumeration(let n, _, _), .object(let n, _, _, _, _), .alternate(let n, _, _): return n
        }
    }

    var features: [String] {
        switch self {
        case .enumeration(_, _, let f), .object(_, _, _, _, let f), .alternate(_, _, let f): return f
        }
    }
}

/// A command's declaration.
public struct CommandDeclaration: Sendable, Equatable {
    public let name: String
    /// The arguments: an implicit object type, or a named struct/union (`boxed`).
    let argumentType: String?
    let returnType: TypeReference?
    /// `"gen": false`: the command takes members beyond its declared ones
    /// (`device_add`).
    public let allowsAnyArguments: Bool
    public let allowPreconfig: Bool
    public let allowOOB: Bool
    public let features: [String]
}

/// An event's declaration.
public struct EventDeclaration: Sendable {
    public let name: String
    let dataType: String?
    public let features: [String]
}

/// A command or an event, in the order a module declares them: the order
/// `query-qmp-schema` lists them in.
enum SchemaEntity: Sendable, Hashable {
    case command(String)
    case event(String)
}

/// QAPI's `features` list: names, or `{"name": ..., "if": ...}` objects.
func featureNames(_ value: JSONValue?) -> [String] {
    (value?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["name"]?.stringValue }
}
