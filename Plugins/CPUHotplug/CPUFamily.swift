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
            // Every model QEMU 7.2's x86_64 build offers (query-cpu-definitions),
            // so any `-cpu` libvirt writes names a type of ours.
            return [
            "max", "host", "base", "qemu64-v1", "qemu64", "qemu32-v1", "qemu32", "phenom-v1", "phenom",
            "pentium3-v1", "pentium3", "pentium2-v1", "pentium2", "pentium-v1", "pentium", "n270-v1", "n270",
            "kvm64-v1", "kvm64", "kvm32-v1", "kvm32", "coreduo-v1", "coreduo", "core2duo-v1", "core2duo",
            "athlon-v1", "athlon", "Westmere-v2", "Westmere-v1", "Westmere-IBRS", "Westmere", "Snowridge-v4",
            "Snowridge-v3", "Snowridge-v2", "Snowridge-v1", "Snowridge", "Skylake-Server-v5", "Skylake-Server-v4",
            "Skylake-Server-v3", "Skylake-Server-v2", "Skylake-Server-v1", "Skylake-Server-noTSX-IBRS",
            "Skylake-Server-IBRS", "Skylake-Server", "Skylake-Client-v4", "Skylake-Client-v3", "Skylake-Client-v2",
            "Skylake-Client-v1", "Skylake-Client-noTSX-IBRS", "Skylake-Client-IBRS", "Skylake-Client",
            "SandyBridge-v2", "SandyBridge-v1", "SandyBridge-IBRS", "SandyBridge", "Penryn-v1", "Penryn",
            "Opteron_G5-v1", "Opteron_G5", "Opteron_G4-v1", "Opteron_G4", "Opteron_G3-v1", "Opteron_G3",
            "Opteron_G2-v1", "Opteron_G2", "Opteron_G1-v1", "Opteron_G1", "Nehalem-v2", "Nehalem-v1", "Nehalem-IBRS",
            "Nehalem", "KnightsMill-v1", "KnightsMill", "IvyBridge-v2", "IvyBridge-v1", "IvyBridge-IBRS",
            "IvyBridge", "Icelake-Server-v6", "Icelake-Server-v5", "Icelake-Server-v4", "Icelake-Server-v3",
            "Icelake-Server-v2", "Icelake-Server-v1", "Icelake-Server-noTSX", "Icelake-Server", "Haswell-v4",
            "Haswell-v3", "Haswell-v2", "Haswell-v1", "Haswell-noTSX-IBRS", "Haswell-noTSX", "Haswell-IBRS",
            "Haswell", "EPYC-v3", "EPYC-v2", "EPYC-v1", "EPYC-Rome-v2", "EPYC-Rome-v1", "EPYC-Rome", "EPYC-Milan-v1",
            "EPYC-Milan", "EPYC-IBPB", "EPYC", "Dhyana-v2", "Dhyana-v1", "Dhyana", "Denverton-v3", "Denverton-v2",
            "Denverton-v1", "Denverton", "Cooperlake-v2", "Cooperlake-v1", "Cooperlake", "Conroe-v1", "Conroe",
            "Cascadelake-Server-v5", "Cascadelake-Server-v4", "Cascadelake-Server-v3", "Cascadelake-Server-v2",
            "Cascadelake-Server-v1", "Cascadelake-Server-noTSX", "Cascadelake-Server", "Broadwell-v4",
            "Broadwell-v3", "Broadwell-v2", "Broadwell-v1", "Broadwell-noTSX-IBRS", "Broadwell-noTSX",
            "Broadwell-IBRS", "Broadwell", "486-v1", "486"
            ]
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
