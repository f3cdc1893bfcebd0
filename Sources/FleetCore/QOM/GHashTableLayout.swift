/// Where GLib 2.74's `GHashTable` keeps string keys, slot by slot: enough
/// of `ghash.c` (g_str_hash, the prime modulus, quadratic probing,
/// tombstones, the in-place resize) to know the order in which
/// `g_hash_table_iter_next` visits them.
///
/// QEMU 7.2 keeps each object's properties, its QOM children among them,
/// in such a table, and `qom-list` answers in the reverse of that visiting
/// order (`QAPI_LIST_PREPEND`): `/machine/peripheral` with devices nic0,
/// nic1, video0, balloon0 and ser0 added in that order lists ser0,
/// balloon0, nic1, video0, nic0. A removal leaves a tombstone that later
/// insertions and resizes depend on, so the order is a function of the
/// whole history of adds and deletes, which this replays.
///
/// Loop-confined. A class, so a VM that keeps none pays one word for it
/// (`QOMChildOrder`, `VM.objectTable`).
final class GHashTableLayout {
    /// GLib's `prime_mod`, indexed by the table's shift.
    private static let primeModulus: [UInt32] = [
        1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 262139,
        524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689, 268435399,
        536870909, 1073741789, 2147483647,
    ]
    /// GLib's `HASH_TABLE_MIN_SHIFT`: a table never has fewer than 8 slots.
    private static let minimumShift = 3
    private static let unused: UInt32 = 0
    private static let tombstone: UInt32 = 1

    private var hashes: [UInt32]
    private var keys: [String?]
    private var modulus: UInt32
    private var mask: Int
    /// Live keys (`nnodes`) and slots not unused, tombstones too (`noccupied`).
    private var nodes = 0
    private var occupied = 0

    init() {
        let size = 1 << Self.minimumShift
        hashes = Array(repeating: Self.unused, count: size)
        keys = Array(repeating: nil, count: size)
        modulus = Self.primeModulus[Self.minimumShift]
        mask = size - 1
    }

    /// A table that had `keys` inserted in this order and nothing removed.
    convenience init(inserting keys: some Sequence<String>) {
        self.init()
        for key in keys { insert(key) }
    }

    /// The keys in `g_hash_table_iter_next`'s order.
    var iterationOrder: [String] { keys.indices.compactMap { hashes[$0] > Self.tombstone ? keys[$0] : nil } }

    /// GLib's `g_str_hash` (djb2 over signed chars), never 0 or 1 (those mark
    /// unused slots and tombstones: GLib stores 2 instead).
    static func hash(_ key: String) -> UInt32 {
        var h: UInt32 = 5381
        for byte in key.utf8 {
            h = (h &<< 5) &+ h &+ UInt32(bitPattern: Int32(Int8(bitPattern: byte)))
        }
        return h > tombstone ? h : 2
    }

    private func index(of hash: UInt32) -> Int { Int((hash &* 11) % modulus) }

    /// `g_hash_table_lookup_node`: the key's slot, or where it would go.
    private func slot(for key: String, hash: UInt32) -> (index: Int, found: Bool) {
        var i = index(of: hash)
        var step = 0
        var firstTombstone: Int?
        while hashes[i] != Self.unused {
            if hashes[i] == hash, keys[i] == key { return (i, true) }
            if hashes[i] == Self.tombstone, firstTombstone == nil { firstTombstone = i }
            step += 1
            i = (i + step) & mask
        }
        return (firstTombstone ?? i, false)
    }

    func insert(_ key: String) {
        let hash = Self.hash(key)
        let (i, found) = slot(for: key, hash: hash)
        guard !found else { return }
        if hashes[i] == Self.unused { occupied += 1 }
        hashes[i] = hash
        keys[i] = key
        nodes += 1
        resizeIfNeeded()
    }

    func remove(_ key: String) {
        let (i, found) = slot(for: key, hash: Self.hash(key))
        guard found else { return }
        hashes[i] = Self.tombstone
        keys[i] = nil
        nodes -= 1
        resizeIfNeeded()
    }

    /// `g_hash_table_maybe_resize`: under a quarter full, or 15/16 of the
    /// slots taken with tombstones counted.
    private func resizeIfNeeded() {
        let size = hashes.count
        if (size > nodes * 4 && size > 1 << Self.minimumShift) || size <= occupied + occupied / 16 { resize() }
    }

    /// `g_hash_table_resize`: the new size from the live keys (× 1.333), then
    /// every key moved in place, evicting keys not yet moved, slot by slot.
    private func resize() {
        let oldSize = hashes.count
        var n = Int(Double(nodes) * 1.333)
        var shift = 0
        while n != 0 { n >>= 1; shift += 1 }
        shift = max(shift, Self.minimumShift)
        let size = 1 << shift
        modulus = Self.primeModulus[shift]
        mask = size - 1
        if size > oldSize {
            hashes += Array(repeating: Self.unused, count: size - oldSize)
            keys += Array(repeating: nil, count: size - oldSize)
        }
        var moved = Array(repeating: false, count: max(size, oldSize))
        for i in 0..<oldSize {
            var hash = hashes[i]
            if hash <= Self.tombstone {
                hashes[i] = Self.unused
                continue
            }
            if moved[i] { continue }
            hashes[i] = Self.unused
            var key = keys[i]
            keys[i] = nil
            while true {
                var j = index(of: hash)
                var step = 0
                while moved[j] {
                    step += 1
                    j = (j + step) & mask
                }
                moved[j] = true
                let replaced = hashes[j]
                hashes[j] = hash
                if replaced <= Self.tombstone {
                    keys[j] = key
                    break
                }
                hash = replaced
                swap(&key, &keys[j])
            }
        }
        if size < oldSize {
            hashes.removeLast(oldSize - size)
            keys.removeLast(oldSize - size)
        }
        occupied = nodes
    }
}
