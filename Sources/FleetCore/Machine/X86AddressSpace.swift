/// The top of a pc or q35 board's guest-physical address space as QEMU 7.2's
/// `pc_memory_init` computes it (`pc_max_used_gpa`): RAM above 4 GiB, the
/// DIMM window (maxmem - RAM plus 1 GiB per slot) and the 64-bit PCI hole,
/// moved above 1 TiB on AMD CPUs once it reaches the HyperTransport range.
/// QEMU refuses to start a machine whose top lies past its CPU's physical
/// address bits (40 for its default models).
///
/// Measured on QEMU 7.2: `-machine pc -m 1G,slots=1,maxmem=8388608T` says
/// "Address space limit 0xffffffffff < 0x800001007fffffff phys-bits too low
/// (40)", and `-machine q35 -m 1G,slots=1,maxmem=1T` "... < 0x207ffffffff".
struct X86AddressSpace {
    /// `phys-bits` of QEMU's x86 CPU models without host passthrough.
    static let physBits = 40
    static let gibibyte: UInt64 = 1 << 30
    static let fourGiB: UInt64 = 4 << 30
    /// AMD_HT_START and AMD_ABOVE_1TB_START.
    static let amdHyperTransportStart: UInt64 = 0xfd_0000_0000
    static let amdAbove1TiBStart: UInt64 = 1 << 40

    let isQ35: Bool
    let ram: UInt64
    let maxmem: UInt64
    let slots: UInt64
    /// `enforce_amd_1tb_hole` (7.1 and later machine types) with an AMD
    /// model: QEMU's default `qemu64` is one.
    let relocatesAbove1TiB: Bool

    var limit: UInt64 { (1 << UInt64(Self.physBits)) - 1 }

    init(machine: MachineSpec) {
        isQ35 = machine.type.hasPrefix("pc-q35") || machine.type == "q35"
        ram = machine.ramBytes
        maxmem = machine.maxMemoryBytes
        slots = UInt64(bitPattern: Int64(machine.memorySlots))
        let model = machine.cpuModel ?? "qemu64"
        let amd = model == "qemu64" || model.hasPrefix("EPYC") || model.hasPrefix("Opteron") || model == "phenom" || model == "athlon"
        let machineVersion = machine.type.split(separator: "-").last.flatMap { Double($0) } ?? 7.2
        relocatesAbove1TiB = amd && machineVersion >= 7.1
    }

    /// The highest guest-physical address used; nil when the sum overflows
    /// 64 bits, unless `wrapping`, which gives the wrapped figure QEMU's
    /// `uint64_t` arithmetic would print.
    func maxUsedAddress(wrapping: Bool = false) -> UInt64? {
        guard let first = top(above4GStart: Self.fourGiB, wrapping: wrapping) else { return nil }
        guard relocatesAbove1TiB, first >= Self.amdHyperTransportStart else { return first }
        return top(above4GStart: Self.amdAbove1TiBStart, wrapping: wrapping)
    }

    private func top(above4GStart start: UInt64, wrapping: Bool) -> UInt64? {
        var overflowed = false
        func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (sum, o) = a.addingReportingOverflow(b)
            overflowed = overflowed || o
            return sum
        }
        func roundUp(_ v: UInt64) -> UInt64 { add(v, Self.gibibyte - 1) & ~(Self.gibibyte - 1) }
        // pc_init1 / pc_q35_init: how much RAM stays below the PCI hole.
        let lowmem: UInt64 = isQ35 ? (ram >= 0xb000_0000 ? 0x8000_0000 : 0xb000_0000)
                                   : (ram >= 0xe000_0000 ? 0xc000_0000 : 0xe000_0000)
        let above4G = ram > lowmem ? ram - lowmem : 0
        let above4GEnd = above4G == 0 ? start : add(start, above4G)
        var hole64Start = above4GEnd
        if slots > 0 && ram < maxmem {
            let (window, o) = slots.multipliedReportingOverflow(by: Self.gibibyte)
            overflowed = overflowed || o
            hole64Start = add(roundUp(above4GEnd), add(maxmem - ram, window))
        }
        // The 64-bit PCI hole: 2 GiB on i440fx, 32 GiB on q35.
        let hole64Size: UInt64 = isQ35 ? 32 << 30 : 2 << 30
        let top = add(roundUp(hole64Start), hole64Size) &- 1
        return overflowed && !wrapping ? nil : top
    }
}
