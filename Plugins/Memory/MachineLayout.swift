import QMPPluginKit

/// What the board says about memory: how much RAM it has, where the
/// hot-plug window (QEMU's "device memory" region) lies, how many DIMM
/// slots it has, whether an ACPI device reports on them, and how many guest
/// NUMA nodes exist. Read once from `vm.machine`.
struct MachineLayout {
    /// The boards whose memory layout QEMU 7.2 computes differently.
    enum Board {
        case pc, q35, virt, pseries, none

        init(machineType: String, arch: String) {
            if machineType.hasPrefix("pc-q35") || machineType == "q35" { self = .q35 }
            else if machineType.hasPrefix("pc") { self = .pc }
            else if machineType.hasPrefix("virt") { self = .virt }
            else if machineType.hasPrefix("pseries") { self = .pseries }
            else if machineType == "none" { self = .none }
            else { self = arch == "aarch64" ? .virt : (arch.hasPrefix("ppc") ? .pseries : .pc) }
        }
    }

    static let gibibyte: UInt64 = 1 << 30
    static let fourGiB: UInt64 = 4 << 30
    /// QEMU reserves this much window per slot for alignment (`enforce_aligned_dimm`).
    static let windowPerSlot: UInt64 = gibibyte

    let board: Board
    let arch: String
    let ramBytes: UInt64
    let slots: Int
    let maxMemoryBytes: UInt64
    /// Guest NUMA nodes: QEMU adds one by itself when memory hot-plug is on.
    let numaNodes: Int
    /// Where DIMMs go; nil when maxmem leaves no room (no `maxmem`).
    let window: Range<UInt64>?

    init(machine: PluginVM.Machine, numaNodes configured: Int?) {
        arch = machine.arch
        board = Board(machineType: machine.type, arch: arch)
        ramBytes = machine.ramSize
        slots = machine.memorySlots
        maxMemoryBytes = machine.maxMemory
        numaNodes = configured ?? (slots > 0 && board != .none ? 1 : 0)
        window = MachineLayout.deviceMemoryWindow(board: board, ram: ramBytes, maxmem: maxMemoryBytes, slots: slots)
    }

    /// `pc_memory_init`/`virt`/`spapr`: the window starts after RAM above
    /// 4 GiB, rounded up to 1 GiB, and holds maxmem - RAM plus 1 GiB per slot.
    static func deviceMemoryWindow(board: Board, ram: UInt64, maxmem: UInt64, slots: Int) -> Range<UInt64>? {
        // The fleet checks the sizes where they enter (MachineSpec's
        // memoryProblem); a window that would still overflow gets none.
        guard maxmem > ram, board != .none, slots >= 0 else { return nil }
        let (slotBytes, o1) = UInt64(slots).multipliedReportingOverflow(by: windowPerSlot)
        let (size, o2) = (maxmem - ram).addingReportingOverflow(slotBytes)
        guard !o1, !o2 else { return nil }
        let base: UInt64
        switch board {
        case .pc, .q35:
            // Low RAM stops below the PCI hole; the rest is mapped from 4 GiB.
            let lowmemLimit: UInt64 = board == .pc
                ? (ram >= 0xe000_0000 ? 0xc000_0000 : 0xe000_0000)
                : (ram >= 0xb000_0000 ? 0x8000_0000 : 0xb000_0000)
            let above4G = ram > lowmemLimit ? ram - lowmemLimit : 0
            base = alignUp(fourGiB + above4G, gibibyte)
        case .virt:
            base = alignUp(gibibyte + ram, gibibyte)
        case .pseries, .none:
            base = alignUp(ram, gibibyte)
        }
        let (end, o3) = base.addingReportingOverflow(size)
        return o3 ? nil : base..<end
    }

    /// Whether the board has an ACPI device (`query-acpi-ospm-status`).
    /// virt has one (its GED) only when it boots firmware, which no
    /// simulated VM does: QEMU 7.2's `-M virt` without it has none.
    var hasACPI: Bool { board == .pc || board == .q35 }

    /// The id of the board's own RAM backend, as `query-memdev` lists it.
    var ramBackendID: String? {
        switch board {
        case .pc, .q35: return "pc.ram"
        case .virt: return "mach-virt.ram"
        case .pseries: return "ppc_spapr.ram"
        case .none: return nil
        }
    }

    var isX86: Bool { arch == "x86_64" || arch == "i386" }
}

/// `value` rounded up to `alignment` (a client's `align` may be up to
/// 2^64-1); UInt64.max where that is past 2^64, which no window holds.
func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    guard alignment > 0 else { return value }
    let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
    return overflow ? .max : sum / alignment * alignment
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
