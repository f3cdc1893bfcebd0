import QMPPluginKit

/// `-smp`: how many CPUs the VM starts with and where each possible CPU
/// sits, in QEMU's `possible_cpu_arch_ids` order.
struct CPUTopology: Equatable {
    let cpus: Int
    let sockets: Int
    let cores: Int
    let threads: Int
    let maxCPUs: Int

    init(smp: PluginVM.Machine.SMP) {
        cpus = smp.cpus
        sockets = smp.sockets
        cores = smp.cores
        threads = smp.threads
        maxCPUs = smp.maxCPUs
    }

    /// x86 ids of CPU `index`: threads vary fastest, then cores, then sockets.
    func x86Position(_ index: Int) -> X86Position {
        X86Position(socket: index / (threads * cores), core: (index / threads) % cores, thread: index % threads)
    }

    /// Bits of the APIC ID per level (`apicid_core_width` and friends).
    var threadBits: Int { bitWidth(threads) }
    var coreBits: Int { bitWidth(cores) }

    func apicID(_ p: X86Position) -> Int {
        (p.socket << (coreBits + threadBits)) | (p.core << threadBits) | p.thread
    }

    private func bitWidth(_ count: Int) -> Int {
        count <= 1 ? 0 : (Int.bitWidth - (count - 1).leadingZeroBitCount)
    }
}

struct X86Position: Equatable {
    var socket: Int
    var core: Int
    var thread: Int
}
