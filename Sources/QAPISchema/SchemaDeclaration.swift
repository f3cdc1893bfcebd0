import QMPWire

/// A named type a schema declares.
enum TypeDeclaration: Sendable, Equatable {
    case enumeration(name: String, values: [String])
    /// A struct, or a union's base plus variants: members first, then the
    /// members of the variant the discriminator selects.
    case object(name: String, members: [SchemaMember], discriminator: String?, variants: [(value: String, type: String)])
    case alternate(name: String, alternatives: [(name: String, type: TypeReference)])

    var name: String {
        switch self {
        case .enumeration(let n, _), .object(let n, _, _, _), .alternate(let n, _): return n
        }
    }

    static func == (lhs: TypeDeclaration, rhs: TypeDeclaration) -> Bool {
        switch (lhs, rhs) {
        case (.enumeration(let a, let av), .enumeration(let b, let bv)):
            return a == b && av == bv
        case (.object(let a, let am, let ad, let avar), .object(let b, let bm, let bd, let bvar)):
            return a == b && am == bm && ad == bd && avar.elementsEqual(bvar) { $0.value == $1.value && $0.type == $1.type }
        case (.alternate(let a, let aa), .alternate(let b, let ba)):
            return a == b && aa.elementsEqual(ba) { $0.name == $1.name && $0.type == $1.type }
        default:
            return false
        }
    }
}

/// A command's declaration.
public struct CommandDeclaration: Sendable {
    public let name: String
    /// The arguments: an implicit object type, or a named struct/union (`boxed`).
    let argumentType: String?
    let returnType: TypeReference?
    /// `"gen": false`: the command takes members beyond its declared ones
    /// (`device_add`, `object-add`).
    public let allowsAnyArguments: Bool
    public let allowPreconfig: Bool
    public let allowOOB: Bool
    public let features: [String]
}

/// An event's declaration.
public struct EventDeclaration: Sendable {
    public let name: String
    let dataType: String?
}
