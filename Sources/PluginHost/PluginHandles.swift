import Synchronization
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
///
/// The table is split in stripes by number, each with its own lock: every
/// loop creates instances and takes host calls at once, and one lock for
/// the process was 6 % of starting 10,000 VMs on two loops (most of it
/// waiting on the other loop). An entry hands its instance only to the
/// instance's own thread, so it keeps it unowned: the instance removes its
/// entry before it is freed, on that same thread, and another thread
/// follows the reference only under the stripe's lock (to name the plugin
/// it refuses), while the entry, and so the instance, still exists. (A
/// weak reference cost each of a VM's 13 instances a side table.)
enum PluginHandles {
    private struct Entry {
        /// The instance's loop thread: the only one that may follow `instance`
        /// outside its stripe's lock.
        let thread: pthread_t
        unowned(unsafe) let instance: PluginInstance
    }

    /// What a handle leads to on the calling thread.
    enum Lookup {
        /// The live instance; the caller is on its loop thread.
        case instance(PluginInstance)
        /// The instance of `plugin` lives on another thread.
        case otherThread(plugin: String)
        /// No instance has the handle (its VM ended, or it was never given out).
        case none
    }

    private static let stripeCount = 16
    private static let stripes = (0..<stripeCount).map { _ in Locked([UInt: Entry]()) }
    private static let next = Atomic<UInt>(1)

    private static func stripe(_ number: UInt) -> Locked<[UInt: Entry]> { stripes[Int(number % UInt(stripeCount))] }

    /// A new handle for `instance` (made on its loop thread), valid until `release`.
    static func register(_ instance: PluginInstance) -> OpaquePointer {
        let number = next.add(1, ordering: .relaxed).oldValue
        let entry = Entry(thread: instance.thread, instance: instance)
        stripe(number).withLock { $0[number] = entry }
        return OpaquePointer(bitPattern: number)!
    }

    static func release(_ handle: OpaquePointer) {
        let number = UInt(bitPattern: handle)
        _ = stripe(number).withLock { $0.removeValue(forKey: number) }
    }

    /// What `handle` leads to for the calling thread.
    static func lookup(_ handle: OpaquePointer?) -> Lookup {
        guard let handle else { return .none }
        let number = UInt(bitPattern: handle)
        return stripe(number).withLock { table in
            guard let entry = table[number] else { return .none }
            // Under the lock the entry is there, so the instance is not yet
            // past its deinit (which takes the lock to remove it): reading
            // its plugin's name from another thread is safe here, and only here.
            guard pthread_equal(entry.thread, pthread_self()) != 0 else { return .otherThread(plugin: entry.instance.library.name) }
            return .instance(entry.instance)
        }
    }

    /// The live instance behind `handle` when the caller is on its loop
    /// thread, else nil.
    static func instance(for handle: OpaquePointer?) -> PluginInstance? {
        if case .instance(let instance) = lookup(handle) { return instance }
        return nil
    }

    static var liveCount: Int { stripes.reduce(0) { $0 + $1.withLock { $0.count } } }
}
