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

    /// QEMU's introspection name for an array type: `[element]`.
    var displayName: String {
        switch self {
        case .named(let n): return n
        case .array(let e): return "[\(e.displayName)]"
        }
    }
}

/// QAPI's built-in types and the JSON they accept.
enum BuiltinType: String, Sendable, CaseIterable {
    case str, number, int, int8, int16, int32, int64, uint8, uint16, uint32, uint64, size, bool, null, any
    case qtype = "QType"

    /// `json-type` in SchemaInfo.
    var jsonType: String {
        switch self {
        case .str: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        case .any: return "value"
        case .qtype: return "string"
        default: return "int"
        }
    }

    /// Signed range for the sized integer types.
    var signedRange: ClosedRange<Int64>? {
        switch self {
        case .int8: return Int64(Int8.min)...Int64(Int8.max)
        case .int16: return Int64(Int16.min)...Int64(Int16.max)
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        default: return nil
        }
    }

    var unsignedMax: UInt64? {
        switch self {
        case .uint8: return UInt64(UInt8.max)
        case .uint16: return UInt64(UInt16.max)
        case .uint32: return UInt64(UInt32.max)
        default: return nil
        }
    }
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
            var typeValue = spec
            var features: [String] = []
            if case .object(let detail) = spec {
                guard let t = detail["type"] else { throw SchemaError("\(context): member '\(name)' has no type") }
                typeValue = t
                features = (detail["features"]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["name"]?.stringValue }
            }
            members.append(SchemaMember(name: name, type: try TypeReference(typeValue, context: "\(context) member '\(name)'"),
                                        isOptional: optional, features: features))
        }
        return members
    }
}
