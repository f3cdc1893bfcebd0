import QMPWire

extension PluginVM {
    /// The VM's machine as the host describes it through `vm_machine_json`
    /// (FleetCore's `MachineSpec.descriptionJSON`), read in this one place
    /// for every plugin: a plugin names `vm.machine.ramSize`, never a key of
    /// the host's text with a default of its own.
    ///
    /// This host always sends every member. A member another host leaves
    /// out, or sends with the wrong JSON type, reads as QEMU's default
    /// x86_64 board would have it: a `pc`, 1 vCPU, no memory slots.
    public struct Machine: Sendable, Equatable {
        /// `-machine` type, resolved (`pc-i440fx-7.2`, `virt-7.2`, `none`).
        public var type: String
        /// QEMU's target (`query-target`): `x86_64`, `aarch64`, `s390x`, ...
        public var arch: String
        /// Guest RAM in bytes.
        public var ramSize: UInt64
        /// `-m slots=`: DIMM slots for memory hot-plug (0: none).
        public var memorySlots: Int
        /// `-m maxmem=` in bytes (0: not given).
        public var maxMemory: UInt64
        public var kvm: Bool
        /// `-cpu` (`cpu:`), when the VM names one.
        public var cpuModel: String?
        /// The host thread of each possible vCPU, by index.
        public var vcpuThreadIDs: [Int64]
        public var smp: SMP
        public var qemuVersion: QEMUVersion

        /// `-smp`: every count at least 1, `maxCPUs` at least `cpus`.
        public struct SMP: Sendable, Equatable {
            public var cpus: Int
            public var sockets: Int
            public var cores: Int
            public var threads: Int
            public var maxCPUs: Int

            public init(cpus: Int, sockets: Int, cores: Int, threads: Int, maxCPUs: Int) {
                (self.cpus, self.sockets, self.cores, self.threads, self.maxCPUs) = (cpus, sockets, cores, threads, maxCPUs)
            }
        }

        /// The `qemu` member of `query-version`.
        public struct QEMUVersion: Sendable, Equatable {
            public var major: Int
            public var minor: Int
            public var micro: Int

            public init(major: Int, minor: Int, micro: Int) {
                (self.major, self.minor, self.micro) = (major, minor, micro)
            }
        }

        /// Reads the host's description.
        public init(description d: JSONValue) {
            func count(_ value: JSONValue?) -> Int { Int(clamping: max(0, value?.int64Value ?? 0)) }
            func bytes(_ value: JSONValue?) -> UInt64 { UInt64(max(0, value?.int64Value ?? 0)) }
            type = d["type"]?.stringValue ?? "pc"
            arch = d["arch"]?.stringValue ?? "x86_64"
            ramSize = bytes(d["ram-size"])
            memorySlots = count(d["memory-slots"])
            maxMemory = bytes(d["max-memory"])
            kvm = d["kvm"]?.boolValue ?? false
            cpuModel = d["cpu-model"]?.stringValue
            vcpuThreadIDs = d["vcpu-thread-ids"]?.arrayValue?.map { $0.int64Value ?? 0 } ?? []
            let smp = d["smp"]
            func topology(_ key: String, _ fallback: Int) -> Int { max(1, Int(clamping: smp?[key]?.int64Value ?? Int64(fallback))) }
            let cpus = topology("cpus", 1)
            self.smp = SMP(cpus: cpus, sockets: topology("sockets", 1), cores: topology("cores", 1), threads: topology("threads", 1),
                           maxCPUs: max(cpus, topology("maxcpus", cpus)))
            let version = d["qemu-version"]
            qemuVersion = QEMUVersion(major: count(version?["major"]), minor: count(version?["minor"]), micro: count(version?["micro"]))
        }
    }
}
