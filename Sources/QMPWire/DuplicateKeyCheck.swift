/// Finds a repeated key while an object is being parsed, in time linear in
/// the object's size, with no step that costs more than a few keys.
///
/// QEMU refuses an object with a repeated key ("JSON parse error, duplicate
/// key"), so each new key must be compared with all before it. A scan of
/// the members is the cheapest check for the few keys QMP objects have, and
/// allocates nothing; but it makes parsing quadratic, and a client could
/// send 500,000 distinct keys (about 6 MB, inside QEMU's token limits) to
/// stall the loop thread for minutes. Past `linearScanLimit` members the
/// keys go into a hash index instead (`KeyIndex`).
///
/// ```swift
/// var check = DuplicateKeyCheck()
/// check.isNew("a", in: object)   // true: the caller then appends "a"
/// ```
struct DuplicateKeyCheck {
    /// Members scanned linearly; past this count the check hashes. Small
    /// enough that a scan costs less than hashing the key once.
    static let linearScanLimit = 16

    /// The members' keys, once past `linearScanLimit` (an empty index does
    /// not allocate).
    private var index = KeyIndex()
    private var isHashing = false

    init() {}

    /// True when `key` is not among `object`'s members; it is then
    /// remembered, and the caller must append it to `object` (as its last
    /// member: the index refers to members by position).
    @inline(__always)
    mutating func isNew(_ key: String, in object: JSONObject) -> Bool {
        if !isHashing {
            if object.count < Self.linearScanLimit {
                return !object.members.contains { $0.key == key }
            }
            isHashing = true
            for (position, member) in object.members.enumerated() { index.insert(member.key.hashValue, position: position) }
        }
        let hash = key.hashValue
        if index.contains(hash, where: { object.members[$0].key == key }) { return false }
        index.insert(hash, position: object.count)
        return true
    }
}

/// An open-addressing hash index of an object's keys: each slot holds a
/// key's hash and its member's position, so that growing the table moves
/// integers and never hashes a string again.
///
/// Why not `Set<String>`: a set rehashes every key at once when it grows.
/// At 393,216 keys that is one step of about 60 ms of CPU in a debug build
/// (the loop thread's other VMs wait for it). Here a grown table takes its
/// entries from the old one a few buckets per insert (an incremental
/// rehash), and a lookup looks in both until the old one is empty, so no
/// insert costs more than a handful of probes.
struct KeyIndex {
    /// A key's hash and its member's position plus one (0: an empty slot).
    struct Slot {
        var hash = 0
        var member: Int32 = 0
    }

    /// Buckets of the first table.
    static let initialCapacity = 64
    /// Buckets of the old table moved per insert: the old table (N buckets)
    /// is empty after N/4 inserts, long before the new one (2N buckets,
    /// holding at most 3N/4 + N/4) reaches its own limit of 3/2 N.
    static let migrationStep = 4

    private var table: [Slot] = []
    private var used = 0
    /// The table before the last growth, emptied by `migrate()`.
    private var previous: [Slot] = []
    private var migrated = 0

    init() {}

    /// True when a slot with `hash` holds a member for which `isSame` is true.
    func contains(_ hash: Int, where isSame: (Int) -> Bool) -> Bool {
        Self.find(hash, in: table, isSame) || Self.find(hash, in: previous, isSame)
    }

    mutating func insert(_ hash: Int, position: Int) {
        if table.isEmpty {
            table = Array(repeating: Slot(), count: Self.initialCapacity)
        } else if (used + 1) * 4 > table.count * 3 {
            // `previous` is empty by now (see `migrationStep`).
            previous = table
            migrated = 0
            table = Array(repeating: Slot(), count: previous.count * 2)
            used = 0
        }
        Self.place(Slot(hash: hash, member: Int32(truncatingIfNeeded: position + 1)), in: &table)
        used += 1
        if !previous.isEmpty { migrate() }
    }

    /// Moves the next `migrationStep` buckets of `previous` into `table`.
    private mutating func migrate() {
        let end = min(migrated + Self.migrationStep, previous.count)
        while migrated < end {
            let slot = previous[migrated]
            if slot.member != 0 {
                Self.place(slot, in: &table)
                used += 1
            }
            migrated += 1
        }
        if migrated == previous.count { previous = [] }
    }

    private static func place(_ slot: Slot, in table: inout [Slot]) {
        let mask = table.count - 1
        var i = slot.hash & mask
        while table[i].member != 0 { i = (i + 1) & mask }
        table[i] = slot
    }

    /// Linear probing from the hash's bucket to the first empty slot.
    /// Migration copies slots and leaves `previous` as it was, so it stays
    /// a consistent table until it is dropped; a key may then be found in
    /// both, which is no harm.
    private static func find(_ hash: Int, in table: [Slot], _ isSame: (Int) -> Bool) -> Bool {
        guard !table.isEmpty else { return false }
        let mask = table.count - 1
        var i = hash & mask
        while true {
            let slot = table[i]
            if slot.member == 0 { return false }
            if slot.hash == hash && isSame(Int(slot.member) - 1) { return true }
            i = (i + 1) & mask
        }
    }
}
