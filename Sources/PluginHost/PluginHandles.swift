import SharedValues
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
///
/// A stripe keeps its handles in `HandleSlots`, pages of slots by number:
/// 8 bytes a handle, where a dictionary of entries cost 10,000 VMs of 12
/// plugins 6 MB.
enum PluginHandles {
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
    private static let stripes = (0..<stripeCount).map { _ in Locked(HandleSlots()) }
    private static let next = Atomic<UInt>(1)

    /// The stripe of handle `number` and its slot there.
    private static func locate(_ number: UInt) -> (stripe: Locked<HandleSlots>, slot: UInt) {
        (stripes[Int(number % UInt(stripeCount))], number / UInt(stripeCount))
    }

    /// A new handle for `instance` (made on its loop thread), valid until `release`.
    static func register(_ instance: PluginInstance) -> OpaquePointer {
        let number = next.add(1, ordering: .relaxed).oldValue
        let (stripe, slot) = locate(number)
        stripe.withLock { $0.insert(instance, at: slot) }
        return OpaquePointer(bitPattern: number)!
    }

    /// Ends `handle` (again: a no-op).
    static func release(_ handle: OpaquePointer) {
        let (stripe, slot) = locate(UInt(bitPattern: handle))
        stripe.withLock { $0.remove(at: slot) }
    }

    /// What `handle` leads to for the calling thread.
    static func lookup(_ handle: OpaquePointer?) -> Lookup {
        guard let handle else { return .none }
        let (stripe, slot) = locate(UInt(bitPattern: handle))
        return stripe.withLock { slots in
            guard let instance = slots[slot] else { return .none }
            // Under the lock the slot holds the instance, so it is not yet
            // past its deinit (which takes the lock to empty the slot):
            // reading its thread and its plugin's name from another thread
            // is safe here, and only here.
            guard pthread_equal(instance.thread, pthread_self()) != 0 else { return .otherThread(plugin: instance.library.name) }
            return .instance(instance)
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
