import QMPWire

/// The first checks every plugin makes of its section of a VM config
/// (`plugins: {NAME: SECTION}`): that it is a mapping, and that it has no key
/// the plugin does not know. A null section (`plugins: {dump: }` or the list
/// form `plugins: [dump]`) means every default.
///
/// ```swift
/// guard let section = try PluginConfig.section(config, plugin: "dump",
///                                              keys: .expected(["bytes-per-step", "step-ms"])) else { return }
/// // config `{step: 5}` throws "dump: unknown key 'step' (expected 'bytes-per-step', 'step-ms')"
/// ```
///
/// The texts are the plugins' own, kept as they were: the operator reads
/// them when a VM refuses to start.
public enum PluginConfig {
    /// The keys a section takes, and how an unknown key's error lists them.
    public enum Keys: Sendable {
        /// `(expected 'a', 'b')`, in the order given.
        case expected([String])
        /// `(expected one of a, b)`, sorted.
        case expectedOneOf(Set<String>)
        /// `(keys: a, b)`, sorted.
        case keys(Set<String>)

        func contains(_ key: String) -> Bool {
            switch self {
            case .expected(let names): return names.contains(key)
            case .expectedOneOf(let names), .keys(let names): return names.contains(key)
            }
        }

        var listing: String {
            switch self {
            case .expected(let names): return "expected " + names.map { "'\($0)'" }.joined(separator: ", ")
            case .expectedOneOf(let names): return "expected one of " + names.sorted().joined(separator: ", ")
            case .keys(let names): return "keys: " + names.sorted().joined(separator: ", ")
            }
        }
    }

    /// The section's members after both checks; nil when the section is null.
    /// Throws "PLUGIN: NOT-A-MAPPING" for any other non-mapping and
    /// "PLUGIN: unknown key 'K' (LISTING)" for the first unknown key.
    public static func section(_ config: JSONValue, plugin: String, keys: Keys,
                               notAMapping: String = "expected a mapping") throws(PluginError) -> JSONObject? {
        guard let members = try mapping(config, plugin: plugin, notAMapping: notAMapping) else { return nil }
        try checkKeys(members, plugin: plugin, keys: keys)
        return members
    }

    /// The section's members, nil when it is null; any other non-mapping
    /// throws "PLUGIN: NOT-A-MAPPING".
    public static func mapping(_ config: JSONValue, plugin: String,
                               notAMapping: String = "expected a mapping") throws(PluginError) -> JSONObject? {
        if let members = config.objectValue { return members }
        if config.isNull { return nil }
        throw PluginError("\(plugin): \(notAMapping)")
    }

    /// Throws "PLUGIN: unknown key 'K' (LISTING)" for the first key of
    /// `members`, in config order, that `keys` does not list.
    public static func checkKeys(_ members: JSONObject, plugin: String, keys: Keys) throws(PluginError) {
        for key in members.keys where !keys.contains(key) {
            throw PluginError("\(plugin): unknown key '\(key)' (\(keys.listing))")
        }
    }

    // MARK: Values. Each takes the plugin's whole error text, kept as it was.

    /// The integer at `key`: nil when the key is absent; `message` is the
    /// error when the value is anything but an integer of at least `minimum`.
    public static func integer(_ section: JSONObject, _ key: String, atLeast minimum: Int64,
                               else message: @autoclosure () -> String) throws(PluginError) -> Int64? {
        guard let value = section[key] else { return nil }
        guard let n = value.int64Value, n >= minimum else { throw PluginError(message()) }
        return n
    }

    /// The boolean at `key`: nil when the key is absent; `message` is the
    /// error when the value is not true or false.
    public static func bool(_ section: JSONObject, _ key: String,
                            else message: @autoclosure () -> String) throws(PluginError) -> Bool? {
        guard let value = section[key] else { return nil }
        guard let flag = value.boolValue else { throw PluginError(message()) }
        return flag
    }

    /// A list of mappings (`netdevs: [{...}, ...]`); empty when absent or null.
    /// Throws "PLUGIN: 'KEY' must be a list" or "PLUGIN: KEY[i] must be a mapping".
    public static func mappings(_ value: JSONValue?, plugin: String, key: String) throws(PluginError) -> [JSONObject] {
        guard let value, !value.isNull else { return [] }
        guard let array = value.arrayValue else { throw PluginError("\(plugin): '\(key)' must be a list") }
        var result: [JSONObject] = []
        for (i, element) in array.enumerated() {
            guard let object = element.objectValue else { throw PluginError("\(plugin): \(key)[\(i)] must be a mapping") }
            result.append(object)
        }
        return result
    }
}
