import QMPWire

/// The simulated machine: what `-machine`, `-m`, `-smp` and `-accel` give QEMU.
public struct MachineSpec: Sendable, Equatable {
    /// The machine type as `query-machines` names it, e.g. `pc-i440fx-7.2`.
    public var type: String = "pc-i440fx-7.2"
    /// QEMU's target (`query-target`): x86_64, aarch64, ppc64, s390x.
    public var arch: String = "x86_64"
    /// Like `-cpu MODEL` (features are not simulated); nil: the
    /// architecture's default (qemu64 on x86).
    public var cpuModel: String?
    public var ramBytes: UInt64 = 1 << 30
    /// Hot-pluggable memory: slots and the maximum (`-m size,slots=N,maxmem=M`).
    public var memorySlots: Int = 0
    public var maxMemoryBytes: UInt64 = 0
    public var smp = SMP()
    public var kvmEnabled = false

    public init() {}

    /// `-smp`: CPUs present at start, and the topology they are placed in.
    public struct SMP: Sendable, Equatable {
        public var cpus = 1
        public var sockets = 1
        public var cores = 1
        public var threads = 1
        public var maxCPUs = 1
        public init() {}
    }

    /// What plugins read through `vm_machine_json`. `vcpu-thread-ids` are
    /// the host thread ids of vCPUs 0 ..< maxcpus, so a plugin that plugs
    /// vCPUs reports the ids the core would.
    public func descriptionJSON(qemuVersion: QEMUVersion, vcpuThreadIDs: [Int]) -> JSONValue {
        [
            "type": .string(type),
            "arch": .string(arch),
            "ram-size": .int(Int64(ramBytes)),
            "memory-slots": .int(Int64(memorySlots)),
            "max-memory": .int(Int64(maxMemoryBytes)),
            "kvm": .bool(kvmEnabled),
            "cpu-model": cpuModel.map(JSONValue.string) ?? .null,
            "vcpu-thread-ids": .array(vcpuThreadIDs.map { .int(Int64($0)) }),
            "smp": [
                "cpus": .int(Int64(smp.cpus)), "sockets": .int(Int64(smp.sockets)),
                "cores": .int(Int64(smp.cores)), "threads": .int(Int64(smp.threads)),
                "maxcpus": .int(Int64(smp.maxCPUs)),
            ],
            "qemu-version": [
                "major": .int(Int64(qemuVersion.major)), "minor": .int(Int64(qemuVersion.minor)),
                "micro": .int(Int64(qemuVersion.micro)),
            ],
        ]
    }
}
