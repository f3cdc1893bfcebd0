/// The order in which GLib 2.74's `g_hash_table_foreach` visits a table's keys.
///
/// Where QEMU lists things by walking a `GHashTable`, its order is the
/// table's slot order, which depends on every insert and removal before.
/// To answer in QEMU's order we replay the table: slot `(hash * 11) % prime`,
/// quadratic probing, tombstones on removal, and GLib's in-place resize
/// (which places colliding keys differently from a fresh table) when it
/// grows or shrinks. Users: the unexpected member QEMU's input visitor names
/// (`g_str_hash` keys, QAPISchema), the order of a QOM object's children
/// (FleetCore's `QOMPropertyTable`) and a rocker switch's OF-DPA flows and
/// groups (integer keys).
public struct GHashTableOrder<Key: Hashable> {
    private static var unused: UInt32 { 0 }
    private static var tombstone: UInt32 { 1 }
    /// GLib's `HASH_TABLE_MIN_SHIFT`: a table never has fewer than 8 slots.
    private static var minimumShift: Int { 3 }
    /// GLib's `prime_mod`, indexed by shift.
    private static var primeMod: [UInt32] {
        [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
         131_071, 262_139, 524_287, 1_048_573, 2_097_143, 4_194_301, 8_388_593, 16_777_213,
         33_554_393, 67_108_859, 134_217_689, 268_435_399, 536_870_909, 1_073_741_789, 2_147_483_647]
    }

    private let hashOf: (Key) -> UInt32
    private var hashes: [UInt32]
    private var keys: [Key?]
    private var mod: UInt32 = 0
    private var mask = 0
    private var nodeCount = 0
    private var occupiedCount = 0

    /// `hash` is the table's hash function (`g_str_hash`, `g_int_hash`, ...).
    public init(hash: @escaping (Key) -> UInt32) {
        hashOf = hash
        hashes = Array(repeating: 0, count: 1 << 3)
        keys = Array(repeating: nil, count: 1 << 3)
        setShift(Self.minimumShift)
    }

    public var count: Int { nodeCount }

    /// The keys as `g_hash_table_foreach` visits them.
    public var iterationOrder: [Key] {
        hashes.indices.compactMap { hashes[$0] >= 2 ? keys[$0] : nil }
    }

    /// The key the iterator yields first.
    public var first: Key? {
        for i in hashes.indices where hashes[i] >= 2 { return keys[i] }
        return nil
    }

    public func contains(_ key: Key) -> Bool {
        let hash = realHash(key)
        return hashes[lookup(key, hash: hash)] >= 2
    }

    /// `g_hash_table_insert` of a new key (an existing key stays where it is).
    public mutating func insert(_ key: Key) {
        let hash = realHash(key)
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

    /// `g_hash_table_remove`.
    public mutating func remove(_ key: Key) {
        let hash = realHash(key)
        let index = lookup(key, hash: hash)
        guard hashes[index] >= 2 else { return }
        hashes[index] = Self.tombstone
        keys[index] = nil
        nodeCount -= 1
        maybeResize()
    }

    private func realHash(_ key: Key) -> UInt32 {
        let h = hashOf(key)
        return h < 2 ? 2 : h
    }

    private mutating func setShift(_ shift: Int) {
        mod = Self.primeMod[shift]
        mask = (1 << shift) - 1
    }

    private func slot(_ hash: UInt32) -> Int { Int((hash &* 11) % mod) }

    private func lookup(_ key: Key, hash: UInt32) -> Int {
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

    private mutating func maybeResize() {
        let size = hashes.count
        if (size > nodeCount * 4 && size > 1 << Self.minimumShift) || size <= occupiedCount + occupiedCount / 16 {
            resize()
        }
    }

    /// `g_hash_table_resize`: the in-place rehash with a bitmap of settled slots.
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

extension GHashTableOrder where Key == String {
    /// GLib's `g_str_hash` (djb2 over signed chars): the hash of QEMU's
    /// string-keyed tables (QOM properties, the input visitor's members).
    public static func strHash(_ key: String) -> UInt32 {
        var h: UInt32 = 5381
        for byte in key.utf8 {
            h = (h &<< 5) &+ h &+ UInt32(bitPattern: Int32(Int8(bitPattern: byte)))
        }
        return h
    }
}
