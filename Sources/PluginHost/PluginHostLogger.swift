import Logging

/// The logger for what happens outside any VM: a plugin calling with a
/// stale handle or from a foreign thread, where no VM's logger may be used.
package enum PluginHostLogger {
    nonisolated(unsafe) package static var process = Logger(label: "qmpfleet")
}
