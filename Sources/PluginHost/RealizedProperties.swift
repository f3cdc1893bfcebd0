import QMPWire
import SharedValues

/// The properties texts of devices plugins realize from their config
/// (`device_realized`), each parsed once: the VMs of a template realize
/// the same devices with the same properties (`{"drive": "drive0"}`), and
/// each VM's own parse of them kept 10,000 VMs 3.8 MB apart. The device
/// entries share the parsed object (a copy-on-write array); one a command
/// changes gets its own.
///
/// Loop threads realize devices at once: a few short texts are kept in a
/// `RecentValues`, the most recent first, as `SettingsCache` keeps
/// plugins' settings.
enum RealizedProperties {
    /// Texts kept, and the longest kept: a fleet has few templates, each of
    /// a few configured devices (the bench's has three), and a long text is
    /// not a template's.
    static let capacity = 16
    static let longestText = 512

    private static let recent = RecentValues<[UInt8], JSONObject>(capacity: capacity)

    /// The object `bytes` holds; nil when they are not a JSON object.
    static func object(of bytes: UnsafeRawBufferPointer) -> JSONObject? {
        guard bytes.count <= longestText else { return try? JSONValue(parsing: bytes).objectValue }
        if let hit = recent.first(where: { $0.elementsEqual(bytes) })?.value { return hit }
        guard let parsed = try? JSONValue(parsing: bytes).objectValue else { return nil }
        recent.insert(parsed, for: Array(bytes))
        return parsed
    }
}
