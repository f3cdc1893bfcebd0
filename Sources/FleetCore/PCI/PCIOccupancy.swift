/// The functions of a PCI bus that something occupies, one bit per devfn
/// (256 bits, on the stack).
///
/// `PCIBus.claim` asks about twenty functions while it places a device
/// (the first free slot, then the slot's other functions). Asking
/// `PCIBus.occupant` for each walked the VM's device list and built an
/// occupant with its strings: 3.9 k instructions a configured device,
/// three per VM of the bench's template. The claim now gathers the taken
/// functions once (the board's, shared per board in `PCIFunctionTable`,
/// then the claims and the devices') and tests bits; it asks for an
/// occupant only to name it in an error.
struct PCIOccupancy: Sendable, Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    func contains(_ devfn: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(devfn & 63)
        switch devfn >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ devfn: UInt8) {
        let bit = UInt64(1) << UInt64(devfn & 63)
        switch devfn >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    mutating func remove(_ devfn: UInt8) {
        let keep = ~(UInt64(1) << UInt64(devfn & 63))
        switch devfn >> 6 {
        case 0: words.0 &= keep
        case 1: words.1 &= keep
        case 2: words.2 &= keep
        default: words.3 &= keep
        }
    }

    /// Whether any function of `slot` other than function 0 is taken; the
    /// lowest such function.
    func firstOtherFunction(ofSlot slot: UInt8) -> UInt8? {
        (1..<8).lazy.map { UInt8($0) }.first { contains(slot << 3 | $0) }
    }

    static func == (a: PCIOccupancy, b: PCIOccupancy) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }
}
