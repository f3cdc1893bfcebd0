import QMPWire

/// A member's type as QAPI writes it: a name (`"str"`, `"BlockDeviceInfo"`)
/// or a one-element array of a name (`["str"]`).
public indirect enum TypeReference: Sendable, Equatable, Hashable {
    case named(String)
    case array(TypeReference)

    init(_ value: JSONValue, context: String) throws(SchemaError) {
        switch value {
        case .string(let name):
            self = .named(name)
        case .array(let elements) where elements.count == 1:
            self = .array(try TypeReference(elements[0], context: context))
        default:
            throw SchemaError("\(context): a type must be a name or a one-element array, not \(value.jsonText)")
        }
    }
}

/// QAPI's built-in types and the JSON they accept.
enum BuiltinType: String, Sendable, CaseIterable {
    case str, number, int, int8, int16, int32, int64, uint8, uint16, uint32, uint64, size, bool, null, any

    /// `json-type` in SchemaInfo.
    var jsonType: String {
        switch self {
        case .str: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        case .any: return "value"
        default: return "int"
        }
    }

    /// Introspection shows every integer type as `int` (QEMU's
    /// introspect.py maps them so clients need not care about widths).
    var introspectionName: String { jsonType == "int" ? "int" : rawValue }

    /// Range of the narrow signed types, and the C type QEMU names when a
    /// value is out of it ("Parameter 'hubid' expects int32_t").
    var signedRange: (range: ClosedRange<Int64>, cType: String)? {
        switch self {
        case .int8: return (Int64(Int8.min)...Int64(Int8.max), "int8_t")
        case .int16: return (Int64(Int16.min)...Int64(Int16.max), "int16_t")
        case .int32: return (Int64(Int32.min)...Int64(Int32.max), "int32_t")
        default: return nil
        }
    }

    /// Maximum of the narrow unsigned types and their C type names
    /// ("Parameter 'compress-level' expects uint8_t").
    var unsignedRange: (max: UInt64, cType: String)? {
        switch self {
        case .uint8: return (UInt64(UInt8.max), "uint8_t")
        case .uint16: return (UInt64(UInt16.max), "uint16_t")
        case .uint32: return (UInt64(UInt32.max), "uint32_t")
        default: return nil
        }
    }
}

extension TypeDeclaration {
    /// `QType`: QAPI declares it itself, as an enum every schema can use.
    static let qtype = TypeDeclaration.enumeration(
        name: "QType",
        values: ["none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool"].map { EnumValue(name: $0, features: []) },
        features: [])
}

/// One member of a struct, a command's arguments or an event's data.
public struct SchemaMember: Sendable, Equatable {
    public let name: String
    public let type: TypeReference
    public let isOptional: Bool
    public let features: [String]

    /// Parses QAPI's member map: `{"*device": "str", "size": {"type": "int", "features": [...]}}`.
    static func parse(_ value: JSONValue, context: String) throws(SchemaError) -> [SchemaMember] {
        guard case .object(let object) = value else {
            throw SchemaError("\(context): members must be an object, not \(value.jsonText)")
        }
        var members: [SchemaMember] = []
        for (key, spec) in object {
            let optional = key.hasPrefix("*")
            let name = optional ? String(key.dropFirst()) : key
            guard !name.isEmpty else { throw SchemaError("\(context): a member has an empty name") }
            var typeValue = spec
            var features: [String] = []
            if case .object(let detail) = spec {
                guard let t = detail["type"] else { throw SchemaError("\(context): member '\(name)' has no type") }
                typeValue = t
                features = featureNames(detail["features"])
            }
            guard !members.contains(where: { $0.name == name }) else {
                throw SchemaError("\(context): member '\(name)' declared twice")
            }
            members.append(SchemaMember(name: name, type: try TypeReference(typeValue, context: "\(context) member '\(name)'"),
                                        isOptional: optional, features: features))
        }
        return members
    }
}
