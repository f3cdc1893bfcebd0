/// A board's own PCI functions (host bridge, PIIX3/ICH9, ...): the QOM type
/// at each devfn, in a table of all 256, shared by every VM of the board.
///
/// `PCIBus.occupant` asks it for each function it looks at, about twenty
/// per configured PCI device (the first free slot, then the slot's other
/// functions); indexing by devfn costs a load where a `[UInt8: String]`
/// hashed each devfn (a PCI device's placement was 5.6 k instructions,
/// mostly those hashes). The same functions as bits (`occupied`) start
/// every claim's `PCIOccupancy`.
///
/// One reference wide: each VM's bus holds a copy, so the bits live with
/// the types in the shared storage (inline they made every VM's bus 32
/// bytes larger).
struct PCIFunctionTable: Sendable {
    /// Written only while the board's recorded table is read, before any
    /// bus shares it; read-only after, so without exclusivity checks.
    private final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var types: [String?] = Array(repeating: nil, count: 256)
        /// The devfns that have a type.
        @exclusivity(unchecked) var occupied = PCIOccupancy()
    }

    private var storage = Storage()

    init() {}

    /// The devfns that have a type.
    var occupied: PCIOccupancy { storage.occupied }

    subscript(_ devfn: UInt8) -> String? {
        get { storage.types[Int(devfn)] }
        set {
            if !isKnownUniquelyReferenced(&storage) {
                let copy = Storage()
                copy.types = storage.types
                copy.occupied = storage.occupied
                storage = copy
            }
            storage.types[Int(devfn)] = newValue
            if newValue == nil { storage.occupied.remove(devfn) } else { storage.occupied.insert(devfn) }
        }
    }
}
