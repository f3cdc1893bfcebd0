import QMPWire

/// Requests handed to plugins and not yet answered, by token.
///
/// The ABI's `qmp_request` is a number, never a pointer, so a plugin that
/// answers twice, answers late, or answers a request whose client left
/// cannot touch freed memory: the token is simply no longer here. Each entry
/// has a timeout, after which the client gets a GenericError and its queue
/// moves on.
///
/// Loop-confined: tokens are created and answered on the loop thread.
final class PendingRequests {
    struct Entry {
        let plugin: String
        let command: String
        let complete: (CommandResult) -> Void
        let timeout: ScheduledAction?
        weak var instance: PluginInstance?
    }

    nonisolated(unsafe) static let shared = PendingRequests()

    private var entries: [UInt64: Entry] = [:]
    private var nextToken: UInt64 = 1

    var count: Int { entries.count }

    func add(plugin: String, command: String, instance: PluginInstance, timeoutMilliseconds: UInt64,
             scheduler: any Scheduler, complete: @escaping (CommandResult) -> Void) -> UInt64 {
        let token = nextToken
        nextToken += 1
        let timeout = scheduler.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            guard let entry = self?.entries.removeValue(forKey: token) else { return }
            entry.instance?.logger.warning("plugin \(plugin) did not answer \(command) within \(timeoutMilliseconds) ms")
            entry.complete(.failure(.generic("Plugin '\(plugin)' did not answer '\(command)' in time")))
        }
        entries[token] = Entry(plugin: plugin, command: command, complete: complete, timeout: timeout, instance: instance)
        return token
    }

    /// Removes and returns the entry; nil when the token is unknown or was
    /// already answered (the caller logs that as a plugin bug).
    func take(_ token: UInt64) -> Entry? {
        guard let entry = entries.removeValue(forKey: token) else { return nil }
        entry.timeout?.cancel()
        return entry
    }

    /// Fails every request of an instance that is going away.
    func cancelAll(of instance: PluginInstance) {
        let tokens = entries.filter { $0.value.instance === instance }.map(\.key)
        for token in tokens {
            if let entry = take(token) {
                entry.complete(.failure(.generic("The VM is shutting down")))
            }
        }
    }
}
