import QMPWire

/// A plugin whose per-VM device state moves with the VM in a live
/// migration. A plugin that does not adopt it migrates nothing of its own:
/// on the target it keeps what the target's config gave it.
///
/// The state is the plugin's own JSON: put a `"version"` in it and keep
/// loading what older versions saved, since source and target may run
/// different builds of the plugin (QEMU's vmstate versions, in JSON).
public protocol MigratablePlugin: QMPPlugin {
    /// The device state to send to the target (source side, VM stopped).
    func saveState() -> JSONValue
    /// Replaces the device state with what `saveState` gave on the source
    /// (target side, before the VM runs). Throwing fails the migration.
    func loadState(_ state: JSONValue) throws(PluginError)
}
