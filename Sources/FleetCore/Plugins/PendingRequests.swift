import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// Requests handed to plugins and not yet answered, by token.
///
/// The ABI's `qmp_request` is a number, never a pointer, so a plugin that
/// answers twice, answers late, or answers a request whose client left
/// cannot touch freed memory: the token is simply no longer here. Each entry
/// has a timeout, after which the client gets a GenericError and its queue
/// moves on.
///
/// One table for the process, because a token arrives from C alone. Each
/// entry is created, answered and timed out on its VM's loop thread; the
/// table itself is locked, since fleets on other threads (tests, several
/// loops) share it. The lock is uncontended with one loop.
final class PendingRequests: Sendable {
    /// Used only on its VM's loop thread; the lock guards the table, not it.
    struct Entry: @unchecked Sendable {
        let plugin: String
        let command: String
        let complete: (CommandResult) -> Void
        let timeout: ScheduledAction?
        weak var instance: PluginInstance?
        /// The VM's loop thread: the only one that may answer.
        let thread = pthread_self()
    }

    private struct Table {
        var entries: [UInt64: Entry] = [:]
        var nextToken: UInt64 = 1
    }

    static let shared = PendingRequests()

    private let table = Locked(Table())

    var count: Int { table.withLock { $0.entries.count } }

    func add(plugin: String, command: String, instance: PluginInstance, timeoutMilliseconds: UInt64,
             scheduler: any Scheduler, complete: @escaping (CommandResult) -> Void) -> UInt64 {
        let token = table.withLock { t in
            defer { t.nextToken += 1 }
            return t.nextToken
        }
        let timeout = scheduler.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            guard let entry = self?.remove(token) else { return }
            entry.instance?.logger.warning("plugin \(plugin) did not answer \(command) within \(timeoutMilliseconds) ms")
            entry.complete(.failure(.generic("Plugin '\(plugin)' did not answer '\(command)' in time")))
        }
        let entry = Entry(plugin: plugin, command: command, complete: complete, timeout: timeout, instance: instance)
        table.withLock { $0.entries[token] = entry }
        return token
    }

    private func remove(_ token: UInt64) -> Entry? {
        table.withLock { $0.entries.removeValue(forKey: token) }
    }

    /// Removes and returns the entry; nil when the token is unknown, was
    /// already answered, or is answered from another thread than its VM's
    /// (the caller logs that as a plugin bug; a request answered from the
    /// wrong thread stays, and times out on its own loop).
    func take(_ token: UInt64) -> Entry? {
        let entry = table.withLock { t -> Entry? in
            guard let entry = t.entries[token], pthread_equal(entry.thread, pthread_self()) != 0 else { return nil }
            return t.entries.removeValue(forKey: token)
        }
        entry?.timeout?.cancel()
        return entry
    }

    /// Fails every request of an instance that is going away.
    func cancelAll(of instance: PluginInstance) {
        let id = ObjectIdentifier(instance)
        let tokens = table.withLock { t in t.entries.filter { $0.value.instance.map(ObjectIdentifier.init) == id }.map(\.key) }
        for token in tokens {
            if let entry = take(token) {
                entry.complete(.failure(.generic("The VM is shutting down")))
            }
        }
    }
}
