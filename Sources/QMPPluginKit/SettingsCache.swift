import QMPWire
import SharedValues
#if canImport(Glibc)
import Glibc
#endif

/// The settings texts a plugin's instances were made from, each parsed
/// once, with the value every instance made from the same text shares.
///
/// The host hands each instance its VM's section as JSON text
/// (`vm_create`), and the VMs of one template (a config entry with
/// `count`, every `vm-create` naming the template) hand it the same text:
/// parsing it for each of 10,000 VMs was a third of creating them. The
/// ABI is unchanged, so a plugin built for ABI 1 or 2, or without the kit,
/// is created as before; what the kit shares is its own parse.
///
/// One per plugin library (the kit's globals are each image's own). Loop
/// threads create instances in parallel: the texts are kept in a
/// `RecentValues`, the most recent first.
final class SettingsCache: Sendable {
    /// What a text became. `configuration` is the plugin's typed
    /// settings (`SharedConfigurationPlugin`), made at its first use.
    struct Entry: @unchecked Sendable {
        // @unchecked: `configuration` holds a `SharedConfigurationPlugin.Configuration`,
        // which that protocol requires to be Sendable.
        let value: JSONValue
        /// A `Typed<C>`: taken back with a class cast (an `Any` cast to `C`
        /// asked the runtime for `Optional<C>`'s metadata and cast the
        /// existential, 2 k instructions for each VM of each of three plugins).
        var configuration: AnyObject?
    }

    /// A configuration of type `C`, as an entry keeps it.
    final class Typed<C: Sendable>: @unchecked Sendable {
        let value: C
        init(_ value: C) { self.value = value }
    }

    /// Texts kept: more than a fleet's templates usually are (one text per
    /// template and plugin; a template past the eighth is parsed again).
    static let capacity = 8

    private let entries = RecentValues<[UInt8], Entry>(capacity: SettingsCache.capacity)

    /// The parsed text, from the cache when a text like it was parsed before.
    func value(of text: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        if let entry = entry(for: text) { return entry.value }
        let value = try JSONValue(parsing: text)
        entries.insert(Entry(value: value, configuration: nil), for: Array(text))
        return value
    }

    /// The typed settings `make` builds from the text's value, built once per
    /// text; a text `make` refuses is not kept (its error is made again).
    func configuration<C: Sendable>(of text: UnsafeRawBufferPointer, as type: C.Type,
                                    make: (JSONValue) throws(PluginError) -> C) throws(PluginError) -> C {
        let value: JSONValue
        if let entry = entry(for: text) {
            if let typed = entry.configuration as? Typed<C> { return typed.value }
            value = entry.value
        } else {
            do {
                value = try JSONValue(parsing: text)
            } catch {
                throw PluginError("config is not valid JSON: \(error.message)")
            }
        }
        let configuration = try make(value)
        entries.insert(Entry(value: value, configuration: Typed(configuration)), for: Array(text))
        return configuration
    }

    private func entry(for text: UnsafeRawBufferPointer) -> Entry? {
        entries.first { kept in
            kept.count == text.count
                && (text.isEmpty || kept.withUnsafeBytes { memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 })
        }?.value
    }
}
