/// The bounds a plugin's `loadState` holds what an incoming migration brings
/// to.
///
/// A migration stream comes from whoever connected to the listener a client
/// opened with `migrate-incoming`: it is input, as a QMP request is. The
/// collections it fills are the ones a client grows with commands, and the
/// commands' bounds (docs/security.md) would mean nothing if a stream could
/// bring a million block nodes or chardevs into a VM of a fleet that holds
/// thousands. So a plugin checks every collection it loads against the same
/// bound its commands use, before anything changes (the migration then
/// fails and the target ends, as an incoming QEMU that cannot load exits).
public enum MigratedStateBounds {
    /// What a plugin takes of one kind of device or object it keeps apart
    /// from the host's own lists (the block plugin's secrets and iothreads,
    /// the memory plugin's backends, the chardev plugin's virtio-serial
    /// controllers and ports): the host's default `devices-per-vm` and
    /// `objects-per-vm`. The host checks its lists in the same stream
    /// against the configured values; a plugin cannot read those, so a
    /// fleet that raises them migrates at most this many of each.
    public static let sharePerVM = 1024

    /// Refuses `count` `what`s past `limit` (`plugin` names the refuser).
    public static func check(_ count: Int, atMost limit: Int, _ what: String, plugin: String) throws(PluginError) {
        guard count <= limit else {
            throw PluginError("\(plugin): the incoming state holds \(count) \(what), more than the \(limit) a VM may hold")
        }
    }

    /// Refuses a second entry named `name` (a stream whose lists name one
    /// thing twice would leave lookups by name finding either).
    public static func checkUnique<S: Sequence>(_ names: S, _ what: String, plugin: String) throws(PluginError) where S.Element == String {
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw PluginError("\(plugin): the incoming state names \(what) '\(name)' twice")
        }
    }
}
