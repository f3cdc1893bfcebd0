/// virtio-net's VLAN filter: one bit per VLAN id, as QEMU keeps it
/// (`VirtIONet.vlans`, `MAX_VLAN` bits).
///
/// A bitmap rather than a `Set<Int>`: every NIC has one and QEMU starts it
/// with all 4,096 ids set, which as a set cost each VM of a large fleet
/// about 70 KiB and most of its start-up time. Fresh tables share one
/// buffer (copy on write) until a guest programs its own.
struct VLANTable: Equatable {
    /// `MAX_VLAN`: VLAN ids 0...4095.
    static let idCount = 4096
    private static let allWords = [UInt64](repeating: ~0, count: idCount / 64)
    private static let noWords = [UInt64](repeating: 0, count: idCount / 64)

    private var words: [UInt64]

    /// Every id set: virtio-net's state after reset.
    static var all: VLANTable { VLANTable(words: allWords) }
    static var empty: VLANTable { VLANTable(words: noWords) }

    private init(words: [UInt64]) { self.words = words }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// - Precondition: `0 <= id < idCount` (callers check guest input).
    mutating func insert(_ id: Int) { words[id >> 6] |= 1 << UInt64(id & 63) }

    func contains(_ id: Int) -> Bool { words[id >> 6] & (1 << UInt64(id & 63)) != 0 }

    /// The ids set, highest first: the order `query-rx-filter` lists them
    /// in (QEMU builds the list by prepending while counting up).
    var descending: [Int] {
        var ids: [Int] = []
        for word in words.indices.reversed() where words[word] != 0 {
            for bit in (0..<64).reversed() where words[word] & (1 << UInt64(bit)) != 0 {
                ids.append(word << 6 | bit)
            }
        }
        return ids
    }
}
