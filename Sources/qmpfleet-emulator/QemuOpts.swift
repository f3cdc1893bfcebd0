import QMPWire

/// An option argument in QEMU's `QemuOpts` syntax, `driver,key=value,...`
/// (`,,` for a literal comma), or in its JSON syntax, `{"key": value}`.
///
/// `impliedKey` names the key of a leading bare word, as each QEMU option
/// defines it: `-machine pc` is `type=pc`, `-m 64` is `size=64`, `-device
/// e1000` is `driver=e1000`. A bare `flag` elsewhere means `flag=on`.
struct QemuOpts {
    /// Members in the order given; JSON values kept as they were.
    private(set) var members: JSONObject = [:]
    /// Written in JSON syntax: values are typed already.
    private(set) var isJSON = false

    /// The arguments of the QMP command this option stands for.
    var arguments: JSONObject { isJSON ? members : typedMembers }

    init(_ text: String, impliedKey: String?) throws(EmulatorError) {
        if text.hasPrefix("{") {
            isJSON = true
            guard case .object(let object)? = try? JSONValue(parsing: text) else {
                throw EmulatorError("'\(text)' is not a JSON object")
            }
            members = object
            return
        }
        var first = true
        for item in Self.split(text) {
            if let eq = item.firstIndex(of: "=") {
                members[String(item[..<eq])] = .string(String(item[item.index(after: eq)...]))
            } else if first, let impliedKey {
                members[impliedKey] = .string(item)
            } else if item.hasPrefix("no"), item.count > 2 {
                // QEMU's old boolean syntax: `nowait` is `wait=off`.
                members[String(item.dropFirst(2))] = .string("off")
            } else if !item.isEmpty {
                members[item] = .string("on")
            }
            first = false
        }
    }

    /// The members as QMP arguments. QEMU's keyval visitor parses each
    /// string by the type the schema gives its key; without the schema at
    /// hand this takes integers and on/off as numbers and booleans, except
    /// for keys that are names, paths or addresses (always strings).
    var typedMembers: JSONObject {
        var typed = JSONObject()
        for (key, value) in members {
            guard case .string(let text) = value, !Self.stringKeys.contains(key) else {
                typed[key] = value
                continue
            }
            if let n = Int64(text) {
                typed[key] = .int(n)
            } else if text == "on" || text == "off" {
                typed[key] = .bool(text == "on")
            } else {
                typed[key] = value
            }
        }
        return typed
    }

    /// Keys whose values stay strings whatever they look like.
    static let stringKeys: Set<String> = [
        "id", "driver", "qom-type", "type", "backend", "addr", "port", "host", "path", "file", "filename", "chardev",
        "netdev", "drive", "bus", "mac", "serial", "wwn", "node-name", "memdev", "romfile", "name", "format", "mode",
    ]

    subscript(key: String) -> String? {
        switch members[key] {
        case .string(let s)?: return s
        case .int(let n)?: return String(n)
        case .uint(let n)?: return String(n)
        case .bool(let b)?: return b ? "on" : "off"
        default: return nil
        }
    }

    /// QEMU's boolean spellings: on/off, yes/no, true/false.
    func bool(_ key: String) -> Bool? {
        if case .bool(let b)? = members[key] { return b }
        switch self[key] {
        case "on"?, "yes"?, "true"?: return true
        case "off"?, "no"?, "false"?: return false
        default: return nil
        }
    }

    /// Items split at single commas; `,,` is a comma inside an item.
    private static func split(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var chars = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if c == "," {
                if let next = chars.next() {
                    if next == "," {
                        current.append(",")
                        continue
                    }
                    pending = next
                }
                items.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        items.append(current)
        return items
    }
}
