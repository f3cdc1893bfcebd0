/// The few values most recently made from a key, kept for the process and
/// shared by every thread that makes the same thing again.
///
/// ```swift
/// let layouts = RecentValues<Topology, [Slot]>(capacity: 8)
/// let slots = layouts.value(for: topology) { makeSlots(topology) }  // made once
/// layouts.value(for: topology)                                     // the same slots
/// ```
///
/// The VMs of one template are made from the same settings, machine and
/// topology, on every loop thread, so what follows from those alone (a
/// parse, a layout, a description) is made by the first VM and taken by
/// the rest. A fleet has few templates, so a short list does: looked up
/// from the most recent, a new entry inserted first, the oldest dropped
/// past `capacity`. Each user names its capacity as a constant that says
/// why it is enough; a miss only costs making the value again.
///
/// The list is behind a `Locked`, held only to compare keys and copy an
/// entry out (a retain or two), never while a value is made: two threads
/// that miss at once both make it, and the later insert replaces the
/// earlier one under an equal key.
public final class RecentValues<Key: Sendable, Value: Sendable>: Sendable {
    /// Entries kept at most.
    public let capacity: Int
    @usableFromInline let entries: Locked<[(key: Key, value: Value)]>

    public init(capacity: Int) {
        precondition(capacity > 0, "RecentValues keeps at least one entry")
        self.capacity = capacity
        entries = Locked([])
    }

    /// The most recent entry whose key `matches` (called under the lock:
    /// it should only compare), or nil.
    @inlinable
    public func first(where matches: (Key) -> Bool) -> (key: Key, value: Value)? {
        entries.withLock { entries in
            for entry in entries where matches(entry.key) { return entry }
            return nil
        }
    }

    /// Keeps `value` first under `key`, in place of any entry whose key
    /// `replaces` says it stands for; the oldest goes past `capacity`.
    @inlinable
    public func insert(_ value: Value, for key: Key, replacing replaces: (Key) -> Bool) {
        entries.withLock { entries in
            entries.removeAll { replaces($0.key) }
            entries.insert((key, value), at: 0)
            if entries.count > capacity { entries.removeLast(entries.count - capacity) }
        }
    }

    /// Entries kept now, the most recent first (for tests and reports).
    public var keys: [Key] { entries.withLock { $0.map { $0.key } } }
}

extension RecentValues where Key: Equatable {
    /// The value kept under `key`, or nil.
    @inlinable
    public func value(for key: Key) -> Value? {
        first { $0 == key }?.value
    }

    /// Keeps `value` first under `key`, in place of one kept under it.
    @inlinable
    public func insert(_ value: Value, for key: Key) {
        insert(value, for: key) { $0 == key }
    }

    /// The value kept under `key`, or the one `make` makes (without the
    /// lock), kept from then on.
    @inlinable
    public func value<Failure: Error>(for key: Key, orMake make: () throws(Failure) -> Value) throws(Failure) -> Value {
        if let kept = value(for: key) { return kept }
        let made = try make()
        insert(made, for: key)
        return made
    }
}
