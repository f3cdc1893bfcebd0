import FleetCore
import QMPWire
import Yams

/// Reads a YAML file into our JSON value, so the rest of the configuration
/// code (and each plugin's config section, which crosses the ABI as JSON)
/// deals with one value type. The only place Yams is imported: FleetCore
/// checks the config as a `JSONValue` and never sees YAML.
enum YAMLDocument {
    static func parse(_ text: String, file: String) throws(FleetError) -> JSONValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw FleetError.config(file: file, key: "", message: "not valid YAML: \(error)")
        }
        guard let node else { return .object([:]) }
        return convert(node)
    }

    private static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return convert(scalar, node: node)
        case .mapping(let mapping):
            var object = JSONObject(minimumCapacity: mapping.count)
            for (key, value) in mapping {
                object[key.string ?? "\(key)"] = convert(value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(convert))
        case .alias(let alias):
            return .string("*\(alias.anchor.rawValue)")
        }
    }

    private static func convert(_ scalar: Node.Scalar, node: Node) -> JSONValue {
        if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { return .string(scalar.string) }
        switch node.tag.description {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
        case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
        case Tag.Name.float.rawValue: return node.float.map(JSONValue.double) ?? .string(scalar.string)
        default: return .string(scalar.string)
        }
    }
}
