import QMPWire

/// The common schema modules a plugin's schema.json includes, as QEMU's
/// qapi/*.json include `sockets.json` and `common.json`: declared once here,
/// generated once into QMPPluginKit (`sockets.generated.swift`), and spliced
/// into the plugin's expressions before they reach the host, which sees
/// one flat schema as before.
public enum QAPIIncludes {
    /// The modules by the name an `include` gives.
    static let modules: [String: [UInt8]] = [
        "common.json": PackageResources.common_json,
        "sockets.json": PackageResources.sockets_json,
    ]

    /// `schema` with each `{"include": "<module>"}` replaced by the module's
    /// expressions, each module once (QEMU includes a file once). Expressions
    /// are spliced as the files spell them (re-writing them would put their
    /// members in QDict order, and a type declared alike by two plugins must
    /// stay alike). A schema without includes comes back as it was.
    public static func expand(_ schema: [UInt8]) -> [UInt8] {
        guard let elements = topLevelElements(schema),
              elements.contains(where: { (try? JSONValue(parsing: $0))?["include"] != nil }) else { return schema }
        var included: Set<String> = []
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, element) in expand(elements, included: &included).enumerated() {
            if i > 0 { out += Array(",\n".utf8) }
            out += element
        }
        out += Array("]\n".utf8)
        return out
    }

    private static func expand(_ elements: [ArraySlice<UInt8>], included: inout Set<String>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        out.reserveCapacity(elements.count)
        for element in elements {
            // An unknown module stays as it was: the host ignores includes,
            // and the schema then names types it does not declare.
            guard let name = (try? JSONValue(parsing: element))?["include"]?.stringValue,
                  let module = modules[name], let inner = topLevelElements(module) else {
                out.append(element)
                continue
            }
            guard included.insert(name).inserted else { continue }
            out += expand(inner, included: &included)
        }
        return out
    }

    /// The bytes of each element of a top-level JSON array, or nil when the
    /// text is not one (the host then reports the schema's own error).
    static func topLevelElements(_ text: [UInt8]) -> [ArraySlice<UInt8>]? {
        var elements: [ArraySlice<UInt8>] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start: Int?
        for (i, byte) in text.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if depth == 1, start == nil { start = i }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if depth == 1, start == nil { start = i }
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    if let s = start { elements.append(trimmed(text[s..<i])) }
                    return elements
                }
                if depth < 0 { return nil }
            case UInt8(ascii: ","):
                if depth == 1, let s = start {
                    elements.append(trimmed(text[s..<i]))
                    start = nil
                }
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                if depth == 0 { return nil }
                if depth == 1, start == nil { start = i }
            }
        }
        return nil
    }

    private static func trimmed(_ slice: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = slice
        while let last = slice.last, last == 0x20 || last == 0x0A || last == 0x09 || last == 0x0D { slice = slice.dropLast() }
        return slice
    }
}
