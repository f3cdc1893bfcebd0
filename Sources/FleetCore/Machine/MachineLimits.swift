import QEMUReference
import QMPWire

/// QEMU 7.2's checks of `-smp` and `-m` (`smp_parse`, `machine_set_mem`,
/// `pc_memory_init`), applied where a machine enters the fleet: the config
/// file, `vm-create` and `qmpfleet-emulator`'s command line. A value that
/// passes them is small enough for every sum and product the fleet and its
/// plugins make of it (vCPU lists of `maxcpus` entries, hot-plug windows),
/// so no client or config value can make that arithmetic trap.
///
/// Each check returns QEMU's own error text, else nil.
extension MachineSpec {
    /// Where QEMU wraps a value instead of refusing it (`-smp
    /// sockets=4294967296` becomes 0 in its `unsigned` fields), the fleet
    /// refuses it with the text QEMU gives for the same mismatch.
    public func smpProblem() -> String? {
        let t = smp
        let (sc, o1) = t.sockets.multipliedReportingOverflow(by: t.cores)
        let (product, o2) = sc.multipliedReportingOverflow(by: t.threads)
        let hierarchy = "sockets (\(t.sockets)) * dies (1) * cores (\(t.cores)) * threads (\(t.threads))"
        // The fleet lets the topology hold more than maxcpus (QEMU wants it
        // exact): only a product too small, or one that overflows, is refused.
        if o1 || o2 || product < t.maxCPUs {
            return "Invalid CPU topology: product of the hierarchy must match maxcpus: \(hierarchy) != maxcpus (\(t.maxCPUs))"
        }
        if t.maxCPUs < t.cpus {
            let relation = product == t.maxCPUs ? "==" : ">"
            return "Invalid CPU topology: maxcpus must be equal to or greater than smp: \(hierarchy) \(relation) maxcpus (\(t.maxCPUs)) < smp_cpus (\(t.cpus))"
        }
        let limit = cpuMax
        if t.maxCPUs > limit {
            return "Invalid SMP CPUs \(t.maxCPUs). The max CPUs supported by machine '\(type)' is \(limit)"
        }
        return nil
    }

    /// `cpu-max` of the machine type as QEMU 7.2's `query-machines` gives it;
    /// for a type neither list knows, the largest of QEMU 7.2's x86_64 and
    /// aarch64 binaries (512, aarch64 `virt`).
    var cpuMax: Int {
        // The built-in catalog first: it has QEMU 7.2's own values for the
        // types it lists (MachineLimitsTests holds it to the recorded list),
        // and the recorded list is half a megabyte of JSON a fleet would
        // otherwise parse, and keep (2 MB), to check its config's -smp.
        if let entry = MachineCatalog.entries(for: arch).first(where: { $0.name == type || $0.alias == type }) {
            return entry.cpuMax
        }
        if arch == "x86_64", let recorded = QEMUReferenceData.shared?.machines?.arrayValue,
           let entry = recorded.first(where: { $0["name"]?.stringValue == type || $0["alias"]?.stringValue == type }),
           let max = entry["cpu-max"]?.int64Value {
            return Int(max)
        }
        return MachineSpec.unknownMachineCPUMax
    }

    static let unknownMachineCPUMax = 512

    /// ACPI_MAX_RAM_SLOTS: the DIMM slots a pc or q35 board's ACPI table has.
    static let x86MemorySlotLimit: UInt64 = 256

    /// `-m size,slots=N,maxmem=M`: maxmem below the RAM, too many slots, and
    /// (x86) a layout past the CPU's physical address bits.
    public func memoryProblem() -> String? {
        let slots = UInt64(bitPattern: Int64(memorySlots))
        if maxMemoryBytes > 0 && maxMemoryBytes < ramBytes {
            return "invalid value of maxmem: maximum memory size (\(Self.hex(maxMemoryBytes))) must be at least the initial memory size (\(Self.hex(ramBytes)))"
        }
        if arch == "x86_64", type != "none" {
            if slots > Self.x86MemorySlotLimit { return "unsupported amount of memory slots: \(slots)" }
            let space = X86AddressSpace(machine: self)
            if let used = space.maxUsedAddress(), used <= space.limit { return nil }
            let used = space.maxUsedAddress(wrapping: true) ?? 0
            return "Address space limit \(Self.hex(space.limit)) < \(Self.hex(used)) phys-bits too low (\(X86AddressSpace.physBits))"
        }
        // Other boards: the sizes must at least fit QEMU's int64 `ram-size`
        // property and the window of slots (1 GiB each) above them.
        guard memorySlots >= 0, memorySlots <= Int(Self.x86MemorySlotLimit) else {
            return "unsupported amount of memory slots: \(slots)"
        }
        let limit = UInt64(Int64.max) - Self.x86MemorySlotLimit << 30
        if ramBytes > limit { return "Value '\(ramBytes)' is out of range for parameter 'size'" }
        if maxMemoryBytes > limit { return "Value '\(maxMemoryBytes)' is out of range for parameter 'maxmem'" }
        return nil
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
