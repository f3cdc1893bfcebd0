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
}
