/// The kinds of board QEMU hot-plugs CPUs on differently, and the CPU
/// models each offers for `device_add` (QOM type `<model><suffix>`).
enum CPUFamily: CaseIterable {
    /// pc and q35: one x86 CPU per socket/core/thread position, ACPI hot-plug.
    case x86
    /// pseries: whole cores (`<model>-spapr-cpu-core`) by core-id, DRC hot-plug.
    case spapr
    /// Arm virt: QEMU 7.2 cannot hot-plug CPUs there.
    case arm

    init(machineType: String, arch: String) {
        if machineType.hasPrefix("pseries") || arch.hasPrefix("ppc") { self = .spapr }
        else if machineType.hasPrefix("virt") || arch == "aarch64" { self = .arm }
        else { self = .x86 }
    }

    var typeSuffix: String {
        switch self {
        case .x86: return "-x86_64-cpu"
        case .spapr: return "-spapr-cpu-core"
        case .arm: return "-arm-cpu"
        }
    }

    /// The model QEMU 7.2 picks when `-cpu` is not given.
    var defaultModel: String {
        switch self {
        case .x86: return "qemu64"
        case .spapr: return "power10_v2.0"
        case .arm: return "cortex-a15"
        }
    }

    /// Models registered as device drivers (registration is per plugin,
    /// not per VM, so the list is fixed).
    var models: [String] {
        switch self {
        case .x86:
            return ["qemu64", "qemu32", "kvm64", "max", "host", "base", "Haswell", "Broadwell", "Skylake-Client",
                    "Skylake-Server", "Cascadelake-Server", "Icelake-Server", "EPYC", "EPYC-Rome", "Nehalem", "Westmere"]
        case .spapr:
            return ["POWER7", "POWER8", "POWER9", "POWER10", "power7_v2.3", "power8_v2.0", "power9_v2.0", "power10_v2.0"]
        case .arm:
            return ["cortex-a15", "cortex-a53", "cortex-a57", "cortex-a72", "max", "host"]
        }
    }

    /// Device properties a CPU of this family takes.
    var propertyNames: [String] {
        switch self {
        case .x86: return ["socket-id", "die-id", "core-id", "thread-id", "node-id", "apic-id"]
        case .spapr: return ["core-id", "node-id", "nr-threads"]
        case .arm: return ["socket-id", "cluster-id", "core-id", "thread-id", "node-id"]
        }
    }

    func typeName(_ model: String) -> String { model + typeSuffix }
}
