/// `/machine/peripheral/<id>`: where QEMU 7.2's qdev puts a device that
/// has an id (an anonymous one goes under `/machine/peripheral-anon`).
///
/// One owner for the rule, host and plugins alike: both keep a named
/// device's id and write its path when asked for, rather than a path
/// string per device (the host's realized devices and the plugins' own
/// device structs each held one: 64 bytes a named device, about 1.9 MB of
/// 10,000 VMs of three configured devices each).
public enum PeripheralPath {
    public static let prefix = "/machine/peripheral/"

    /// The path of the device named `id`.
    public static func of(id: String) -> String { prefix + id }

    /// Whether `path` is the path of the device named `id`, without
    /// writing that path.
    public static func matches(_ path: String, id: String) -> Bool {
        path.utf8.count == prefix.utf8.count + id.utf8.count && path.hasPrefix(prefix) && path.hasSuffix(id)
    }
}
