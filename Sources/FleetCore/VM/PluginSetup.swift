import PluginHost
import QMPWire

/// What a router reads of a VM's `plugins` section before it makes the
/// VM's plugin instances: the command table of its plugin set and target,
/// each plugin's settings as the text `vm_create` takes, and each plugin's
/// placement on the router's loop (`PluginPlacement`: its thread, where
/// its replies are timed), in the table's order.
///
/// The VMs of a template (a `count` entry, or `vm-create`s of one
/// template) share one settings object. Finding the table by its key (the
/// target and a dozen names, hashed), each plugin's settings by name (then
/// comparing them with the text kept for that plugin) and its reply timer
/// by name was 18 k instructions of every VM. The router keeps the last
/// setup and takes it again for a VM whose section is the same object
/// (`JSONObject`'s `==` decides that with one pointer compare).
struct PluginSetup {
    /// The section it was read from, and the VM's target.
    let plugins: JSONObject
    let target: String
    let table: CommandTable
    /// `table.plugins[i]`'s settings text.
    let texts: [String]
    /// `table.plugins[i]`'s placement on this router's loop.
    let placements: [PluginPlacement]

    /// Whether a VM with `plugins` on `target` has this setup.
    func fits(_ plugins: JSONObject, target: String) -> Bool {
        self.target == target && self.plugins == plugins
    }
}
