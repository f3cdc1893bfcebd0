import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// The `qmp_vm*` handles plugins hold: numbers the host looks up, never
/// addresses it follows.
///
/// A plugin may keep a handle past its VM (a thread it started, a stale
/// global) and call the host with it. Were the handle the instance's
/// address, that call would read freed memory in the process every VM
/// shares; as a number it finds nothing and is refused. Numbers are never
/// reused, so a stale handle cannot reach a later VM either.
enum PluginHandles {
    private struct Entry {
        weak var instance: PluginInstance?
    }

    private struct Table {
        var next: UInt = 1
        var live: [UInt: Entry] = [:]
    }

    private static let table = Locked(Table())

    /// A new handle for `instance`, valid until `release`.
    static func register(_ instance: PluginInstance) -> OpaquePointer {
        table.withLock { t in
            let number = t.next
            t.next += 1
            t.live[number] = Entry(instance: instance)
            return OpaquePointer(bitPattern: number)!
        }
    }

    static func release(_ handle: OpaquePointer) {
        _ = table.withLock { $0.live.removeValue(forKey: UInt(bitPattern: handle)) }
    }

    /// The live instance behind `handle`, or nil.
    static func instance(for handle: OpaquePointer?) -> PluginInstance? {
        guard let handle else { return nil }
        return table.withLock { $0.live[UInt(bitPattern: handle)]?.instance }
    }

    static var liveCount: Int { table.withLock { $0.live.count } }
}
