/// The guest-physical RAM blocks of the simulated machine, as QEMU's
/// `guest_phys_blocks` lists them for a dump: on x86 the RAM below the PCI
/// hole and the rest above 4 GiB; on Arm `virt` RAM starts at 1 GiB.
struct GuestMemoryMap {
    struct Block: Equatable {
        var start: UInt64
        var length: UInt64
        var end: UInt64 { start + length }
    }

    static let fourGiB: UInt64 = 1 << 32
    /// Where `pc` and `q35` end low RAM when the guest has more than fits.
    static let pcLowMemoryLimit: UInt64 = 0xc000_0000
    static let q35LowMemoryLimit: UInt64 = 0x8000_0000
    static let armRAMBase: UInt64 = 0x4000_0000

    let blocks: [Block]

    init(ramSize: UInt64, arch: String, machineType: String) {
        guard ramSize > 0 else { blocks = []; return }
        if arch == "x86_64" || arch == "i386" {
            let limit = machineType.hasPrefix("q35") ? GuestMemoryMap.q35LowMemoryLimit : GuestMemoryMap.pcLowMemoryLimit
            let low = min(ramSize, limit)
            var list = [Block(start: 0, length: low)]
            if ramSize > low { list.append(Block(start: GuestMemoryMap.fourGiB, length: ramSize - low)) }
            blocks = list
        } else if arch == "aarch64" || arch == "arm" {
            blocks = [Block(start: GuestMemoryMap.armRAMBase, length: ramSize)]
        } else {
            blocks = [Block(start: 0, length: ramSize)]
        }
    }

    private init(blocks: [Block]) { self.blocks = blocks }

    /// The part of each block inside [begin, begin + length): QEMU's filter.
    func filtered(begin: UInt64, length: UInt64) -> GuestMemoryMap {
        let end = begin &+ length < begin ? UInt64.max : begin + length
        return GuestMemoryMap(blocks: blocks.compactMap { block in
            let low = max(block.start, begin), high = min(block.end, end)
            return high > low ? Block(start: low, length: high - low) : nil
        })
    }

    var totalBytes: UInt64 { blocks.reduce(0) { $0 + $1.length } }
}
