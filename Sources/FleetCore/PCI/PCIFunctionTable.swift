/// A board's own PCI functions (host bridge, PIIX3/ICH9, ...): the QOM type
/// at each devfn, in a table of all 256, shared by every VM of the board.
///
/// `PCIBus.occupant` asks it for each function it looks at, about twenty
/// per configured PCI device (the first free slot, then the slot's other
/// functions); indexing by devfn costs a load where a `[UInt8: String]`
/// hashed each devfn (a PCI device's placement was 5.6 k instructions,
/// mostly those hashes). The same functions as bits (`occupied`) start
/// every claim's `PCIOccupancy`.
struct PCIFunctionTable: Sendable {
    private var types: [String?] = Array(repeating: nil, count: 256)
    /// The devfns that have a type.
    private(set) var occupied = PCIOccupancy()

    init() {}

    subscript(_ devfn: UInt8) -> String? {
        get { types[Int(devfn)] }
        set {
            types[Int(devfn)] = newValue
            if newValue == nil { occupied.remove(devfn) } else { occupied.insert(devfn) }
        }
    }
}
