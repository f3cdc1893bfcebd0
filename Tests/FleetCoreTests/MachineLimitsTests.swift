@testable import FleetCore
import QEMUReference
import Testing

/// MachineSpec's -smp and -m checks against QEMU 7.2's texts (measured with
/// `qemu-system-x86_64 -machine pc|q35 -accel tcg -S -smp ... -m ...`).
@Suite struct MachineLimitsTests {
    static func machine(_ type: String = "pc-i440fx-7.2", ram: UInt64 = 1 << 30, slots: Int = 0, maxmem: UInt64 = 0,
                        smp: (cpus: Int, sockets: Int, cores: Int, threads: Int, maxCPUs: Int) = (1, 1, 1, 1, 1)) -> MachineSpec {
        var m = MachineSpec()
        m.type = type
        m.ramBytes = ram
        m.memorySlots = slots
        m.maxMemoryBytes = maxmem
        m.smp.cpus = smp.cpus
        m.smp.sockets = smp.sockets
        m.smp.cores = smp.cores
        m.smp.threads = smp.threads
        m.smp.maxCPUs = smp.maxCPUs
        return m
    }

    @Test func topologyProductOverflowIsRefusedNotTrapped() {
        let m = Self.machine(smp: (1, 1 << 32, 1 << 32, 1 << 32, 4))
        #expect(m.smpProblem() == "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (4294967296) * dies (1) * cores (4294967296) * threads (4294967296) != maxcpus (4)")
        #expect(Self.machine(smp: (1, .max, .max, .max, .max)).smpProblem()?.hasPrefix("Invalid CPU topology") == true)
    }

    @Test func maxCPUsIsTheMachinesCPUMax() {
        #expect(Self.machine(smp: (1, 2_000_000_000, 1, 1, 2_000_000_000)).smpProblem()
                == "Invalid SMP CPUs 2000000000. The max CPUs supported by machine 'pc-i440fx-7.2' is 255")
        #expect(Self.machine("pc-q35-7.2", smp: (1, 289, 1, 1, 289)).smpProblem()
                == "Invalid SMP CPUs 289. The max CPUs supported by machine 'pc-q35-7.2' is 288")
        #expect(Self.machine("pc-q35-7.2", smp: (1, 288, 1, 1, 288)).smpProblem() == nil)
        var unknown = Self.machine("pseries", smp: (1, 513, 1, 1, 513))
        unknown.arch = "ppc64"
        #expect(unknown.smpProblem() == "Invalid SMP CPUs 513. The max CPUs supported by machine 'pseries' is 512")
    }

    /// `cpuMax` reads the built-in catalog before QEMU's recorded
    /// `query-machines` (whose parse a fleet's start would pay): for every
    /// x86 type the catalog lists, the two must say the same.
    @Test func theCatalogsCPUMaxIsQEMUs() throws {
        let recorded = try #require(QEMUReferenceData.shared?.machines?.arrayValue)
        for entry in MachineCatalog.x86 {
            let machine = try #require(recorded.first { $0["name"]?.stringValue == entry.name }, "\(entry.name)")
            #expect(machine["cpu-max"]?.int64Value == Int64(entry.cpuMax), "\(entry.name)")
            #expect(machine["alias"]?.stringValue == entry.alias, "\(entry.name)")
        }
    }

    @Test func cpusAboveMaxCPUs() {
        #expect(Self.machine(smp: (4, 1, 2, 1, 2)).smpProblem()
                == "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (2) * threads (1) == maxcpus (2) < smp_cpus (4)")
    }

    @Test func addressSpacePastPhysBits() {
        #expect(Self.machine(slots: 1, maxmem: 1 << 63).memoryProblem()
                == "Address space limit 0xffffffffff < 0x800001007fffffff phys-bits too low (40)")
        #expect(Self.machine(slots: 1, maxmem: 1 << 40).memoryProblem()
                == "Address space limit 0xffffffffff < 0x2007fffffff phys-bits too low (40)")
        #expect(Self.machine("pc-q35-7.2", slots: 1, maxmem: 1 << 40).memoryProblem()
                == "Address space limit 0xffffffffff < 0x207ffffffff phys-bits too low (40)")
        #expect(Self.machine(slots: 1, maxmem: 15 << 60).memoryProblem()
                == "Address space limit 0xffffffffff < 0xf00001007fffffff phys-bits too low (40)")
        // 8388608T of RAM alone: the same check (QEMU on this host fails
        // earlier, allocating it).
        #expect(Self.machine(ram: 1 << 63).memoryProblem()
                == "Address space limit 0xffffffffff < 0x800000ffbfffffff phys-bits too low (40)")
        // Wrapping sums are refused too, with QEMU's wrapped figure.
        #expect(Self.machine(slots: 256, maxmem: .max).memoryProblem()?.hasPrefix("Address space limit 0xffffffffff < ") == true)
        #expect(Self.machine(slots: 4, maxmem: 4 << 30).memoryProblem() == nil)
        #expect(Self.machine(ram: 64 << 30).memoryProblem() == nil)
    }

    @Test func slotsAndMaxmem() {
        #expect(Self.machine(slots: 257, maxmem: 2 << 30).memoryProblem() == "unsupported amount of memory slots: 257")
        #expect(Self.machine(slots: -1, maxmem: 2 << 30).memoryProblem() == "unsupported amount of memory slots: 18446744073709551615")
        #expect(Self.machine(ram: 2 << 30, slots: 2, maxmem: 1 << 30).memoryProblem()
                == "invalid value of maxmem: maximum memory size (0x40000000) must be at least the initial memory size (0x80000000)")
    }

    @Test func otherBoardsStayInsideInt64() {
        var arm = Self.machine("virt-7.2", ram: 1 << 63)
        arm.arch = "aarch64"
        #expect(arm.memoryProblem() == "Value '9223372036854775808' is out of range for parameter 'size'")
        arm.ramBytes = 1 << 30
        arm.memorySlots = -1
        arm.maxMemoryBytes = 2 << 30
        #expect(arm.memoryProblem() == "unsupported amount of memory slots: 18446744073709551615")
    }
}
