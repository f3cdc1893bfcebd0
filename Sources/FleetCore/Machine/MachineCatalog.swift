import QEMUReference
import QMPWire

/// The machine types a simulated QEMU offers (`query-machines`), in QEMU
/// 7.2's shape. The list is what the VM's target has.
enum MachineCatalog {
    struct Entry {
        var name: String
        var alias: String?
        var isDefault = false
        var cpuMax: Int
        var defaultCPUType: String?
        var defaultRAMID: String?
        var numaMemSupported: Bool
    }

    static let x86: [Entry] = [
        Entry(name: "pc-i440fx-7.2", alias: "pc", isDefault: true, cpuMax: 255, defaultCPUType: "qemu64-x86_64-cpu", defaultRAMID: "pc.ram", numaMemSupported: true),
        Entry(name: "pc-q35-7.2", alias: "q35", cpuMax: 288, defaultCPUType: "qemu64-x86_64-cpu", defaultRAMID: "pc.ram", numaMemSupported: false),
        Entry(name: "pc-i440fx-7.1", cpuMax: 255, defaultCPUType: "qemu64-x86_64-cpu", defaultRAMID: "pc.ram", numaMemSupported: true),
        Entry(name: "pc-q35-7.1", cpuMax: 288, defaultCPUType: "qemu64-x86_64-cpu", defaultRAMID: "pc.ram", numaMemSupported: false),
        Entry(name: "microvm", cpuMax: 288, defaultCPUType: "qemu64-x86_64-cpu", defaultRAMID: "microvm.ram", numaMemSupported: false),
        Entry(name: "isapc", cpuMax: 1, defaultCPUType: "486-x86_64-cpu", defaultRAMID: "pc.ram", numaMemSupported: true),
        Entry(name: "none", cpuMax: 1, numaMemSupported: false),
    ]

    static let aarch64: [Entry] = [
        Entry(name: "virt-7.2", alias: "virt", cpuMax: 512, defaultCPUType: "cortex-a15-arm-cpu", defaultRAMID: "mach-virt.ram", numaMemSupported: true),
        Entry(name: "none", cpuMax: 1, numaMemSupported: false),
    ]

    static func entries(for arch: String) -> [Entry] {
        arch == "aarch64" ? aarch64 : x86
    }

    /// QEMU 7.2's own list for x86_64 (recorded, all 59 machine types),
    /// else this catalog's entries for the VM's target.
    static func queryMachines(for machine: MachineSpec) -> JSONValue {
        if machine.arch == "x86_64", let recorded = QEMUReferenceData.shared?.machines { return recorded }
        return .array(entries(for: machine.arch).map { e in
            var info = JSONObject()
            info["name"] = .string(e.name)
            if let alias = e.alias { info["alias"] = .string(alias) }
            if e.isDefault { info["is-default"] = true }
            info["cpu-max"] = .int(Int64(e.cpuMax))
            info["hotpluggable-cpus"] = .bool(e.name != "none" && e.name != "isapc")
            info["numa-mem-supported"] = .bool(e.numaMemSupported)
            info["deprecated"] = false
            if let cpu = e.defaultCPUType { info["default-cpu-type"] = .string(cpu) }
            if let ram = e.defaultRAMID { info["default-ram-id"] = .string(ram) }
            return .object(info)
        })
    }

    /// The canonical name for a type given by alias (`pc` → `pc-i440fx-7.2`).
    static func canonicalName(_ name: String, arch: String) -> String? {
        entries(for: arch).first { $0.name == name || $0.alias == name }?.name
    }
}
