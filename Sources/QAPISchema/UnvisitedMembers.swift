import QMPWire

/// Which unexpected member QEMU names when an object has several.
///
/// QEMU's input visitor copies an object's keys into a GLib `GHashTable`
/// (in the order its QDict iterates them), removes each key as a declared
/// member consumes it, and then reports the first key the table's iterator
/// yields: `{"a": 1, "b": 2, "size": 1}` to `block_resize` gets
/// "Parameter 'b' is unexpected". This replays GLib 2.74's table exactly:
/// `g_str_hash`, slot `(hash * 11) % prime`, quadratic probing, tombstones,
/// and the in-place resizes that inserts and removals trigger.
struct UnvisitedMembers {
    private static let unused: UInt32 = 0
    private static let tombstone: UInt32 = 1
    /// GLib's `HASH_TABLE_MIN_SHIFT`: a table never has fewer than 8 slots.
    private static let minimumShift = 3
    /// GLib's `prime_mod`, indexed by shift.
    private static let primeMod: [UInt32] = [
        1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
        131_071, 262_139, 524_287, 1_048_573, 2_097_143, 4_194_301, 8_388_593, 16_777_213,
        33_554_393, 67_108_859, 134_217_689, 268_435_399, 536_870_909, 1_073_741_789, 2_147_483_647,
    ]

    private var hashes: [UInt32]
    private var keys: [String?]
    private var mod: UInt32 = 0
    private var mask: Int = 0
    private var nodeCount = 0
    private var occupiedCount = 0

    /// The keys of `object`, inserted as `qdict_iter` yields them.
    init(_ object: JSONObject) {
        hashes = []
        keys = []
        setShift(Self.minimumShift)
        hashes = Array(repeating: Self.unused, count: 1 << Self.minimumShift)
        keys = Array(repeating: nil, count: hashes.count)
        for index in QDictOrder.writeOrder(of: object) {
            insert(object.members[index].key)
        }
    }

    /// The key the table's iterator yields first: the one QEMU reports.
    var first: String? {
        for i in hashes.indices where hashes[i] >= 2 { return keys[i] }
        return nil
    }

    /// GLib's `g_str_hash` (djb2 over signed chars).
    static func strHash(_ key: String) -> UInt32 {
        var h: UInt32 = 5381
        for byte in key.utf8 {
            h = (h &<< 5) &+ h &+ UInt32(bitPattern: Int32(Int8(bitPattern: byte)))
        }
        return h
    }

    private mutating func setShift(_ shift: Int) {
        mod = Self.primeMod[shift]
        mask = (1 << shift) - 1
    }

    private func slot(_ hash: UInt32) -> Int { Int((hash &* 11) % mod) }

    /// `g_hash_table_lookup_node`: the key's slot, or where it would go.
    private func lookup(_ key: String, hash: UInt32) -> Int {
        var index = slot(hash)
        var firstTombstone: Int?
        var step = 0
        while hashes[index] != Self.unused {
            if hashes[index] == hash, keys[index] == key { return index }
            if hashes[index] == Self.tombstone, firstTombstone == nil { firstTombstone = index }
            step += 1
            index = (index + step) & mask
        }
        return firstTombstone ?? index
    }

    private static func realHash(_ key: String) -> UInt32 {
        let h = strHash(key)
        return h < 2 ? 2 : h
    }

    private mutating func insert(_ key: String) {
        let hash = Self.realHash(key)
        let index = lookup(key, hash: hash)
        let old = hashes[index]
        if old >= 2 { return }
        hashes[index] = hash
        keys[index] = key
        nodeCount += 1
        if old == Self.unused {
            occupiedCount += 1
            maybeResize()
        }
    }

    /// A declared member consumed the key (`qobject_input_try_get_object`).
    mutating func remove(_ key: String) {
        let hash = Self.realHash(key)
        let index = lookup(key, hash: hash)
        guard hashes[index] >= 2 else { return }
        hashes[index] = Self.tombstone
        keys[index] = nil
        nodeCount -= 1
        maybeResize()
    }

    private mutating func maybeResize() {
        let size = hashes.count
        if (size > nodeCount * 4 && size > 1 << Self.minimumShift) || size <= occupiedCount + occupiedCount / 16 {
            resize()
        }
    }

    /// `g_hash_table_resize`: GLib's in-place rehash with a bitmap of
    /// settled slots, which places colliding keys differently from a
    /// fresh table.
    private mutating func resize() {
        let oldSize = hashes.count
        var n = Int(Double(nodeCount) * 1.333)
        var shift = 0
        while n != 0 { n >>= 1; shift += 1 }
        shift = max(shift, Self.minimumShift)
        setShift(shift)
        let newSize = 1 << shift
        if newSize > oldSize {
            hashes += Array(repeating: Self.unused, count: newSize - oldSize)
            keys += Array(repeating: nil, count: newSize - oldSize)
        }
        var settled = Array(repeating: false, count: max(newSize, oldSize))
        for i in 0..<oldSize {
            var nodeHash = hashes[i]
            if nodeHash < 2 {
                hashes[i] = Self.unused
                continue
            }
            if settled[i] { continue }
            hashes[i] = Self.unused
            var key = keys[i]
            keys[i] = nil
            while true {
                var index = slot(nodeHash)
                var step = 0
                while settled[index] {
                    step += 1
                    index = (index + step) & mask
                }
                settled[index] = true
                let replaced = hashes[index]
                hashes[index] = nodeHash
                if replaced < 2 {
                    keys[index] = key
                    break
                }
                nodeHash = replaced
                swap(&key, &keys[index])
            }
        }
        if newSize < oldSize {
            hashes.removeLast(oldSize - newSize)
            keys.removeLast(oldSize - newSize)
        }
        occupiedCount = nodeCount
    }
}
