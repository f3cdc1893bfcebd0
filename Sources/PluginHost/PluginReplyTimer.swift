/// Where a loop counts one plugin's reply times (FleetCore's metrics).
/// Each instance finds its own once, when it is made, so a reply is counted
/// without hashing the plugin's name.
///
/// Loop-confined: recorded on the instance's loop thread only.
package protocol PluginReplyTimer: AnyObject {
    /// A request of this plugin was answered (or timed out) after `nanoseconds`.
    func record(nanoseconds: UInt64)
}
