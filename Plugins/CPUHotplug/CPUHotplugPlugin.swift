import QMPPluginKit
import QMPWire

/// CPU hot-plug as QEMU 7.2's `machine.json` serves it:
/// `query-hotpluggable-cpus`, `device_add`/`device_del` of the board's CPU
/// type at a socket/core/thread (x86) or core (pseries) position, and the
/// seed's `cpu` and `cpu-add`, which 7.2 no longer has.
///
/// Topology comes from the VM's `smp:` entry and the machine type.
///
/// Config keys (`plugins: {cpu-hotplug: ...}`), all optional:
/// - `cpu-model`: the `-cpu` model (default qemu64 on x86, power10_v2.0 on
///   pseries, cortex-a15 on virt); the CPU type is `<model>-x86_64-cpu`,
///   `<model>-spapr-cpu-core` or `<model>-arm-cpu`.
/// - `numa-nodes`: guest NUMA nodes (default 1 when the VM has memory slots,
///   as QEMU adds one); when not 0, CPUs have a `node-id`.
/// - `guest-ack-ms`: how long the simulated guest takes to eject a CPU (default 100).
final class CPUHotplugPlugin: QMPPlugin {
    static let name = "cpu-hotplug"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    let config: CPUHotplugConfig
    let family: CPUFamily
    /// False on boards without CPU hot-plug (`none`, Arm virt).
    let hotplugSupported: Bool
    let model: String
    let topology: CPUTopology
    let slots: [CPUSlot]
    /// The CPU `cpu` selected.
    var defaultCPU = 0
    /// The guest's ACPI switched QEMU to modern CPU hot-plug (x86): it does
    /// so when the OS boots, so only a VM that has run can unplug CPUs.
    var guestBooted = false
    let guest = GuestWorkQueue()
    /// Next free `/machine/unattached/device[N]` for `cpu-add`.
    var nextUnattached: Int
    /// CPUs realized so far, boot CPUs included: the next one's `realizedOrder`.
    var realizedCount: Int

    /// `/machine/unattached` children a pc board creates besides its boot
    /// CPUs (measured on QEMU 7.2 `-machine pc`: the last is device[25+cpus]).
    static let pcUnattachedBoardDevices = 26

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        self.config = try CPUHotplugConfig(config)
        // Parsed on each read (PluginVM.machine): read once.
        let machine = vm.machine
        let machineType = machine.type
        let arch = machine.arch
        family = CPUFamily(machineType: machineType, arch: arch)
        hotplugSupported = machineType != "none" && family != .arm
        // The plugin's own cpu-model, else the VM's (`cpu:`, `-cpu`) when it
        // is of this family, else the family's default.
        let models = family.models
        let machineModel = machine.cpuModel.flatMap { models.contains($0) ? $0 : nil }
        model = self.config.model ?? machineModel ?? family.defaultModel
        guard family.models.contains(model) else {
            throw PluginError("cpu-hotplug: unknown cpu-model '\(model)' (models: \(family.models.joined(separator: ", ")))")
        }
        topology = CPUTopology(smp: machine.smp)
        let memorySlots = machine.memorySlots
        let numa = (self.config.numaNodes ?? (memorySlots > 0 ? 1 : 0)) > 0
        slots = family == .spapr ? CPUHotplugPlugin.spaprSlots(topology, numa: numa) : CPUHotplugPlugin.x86Slots(topology, numa: numa)
        nextUnattached = CPUHotplugPlugin.pcUnattachedBoardDevices + topology.cpus
        realizedCount = slots.count
        guestBooted = vm.isRunning
    }

    var cpuType: String { family.typeName(model) }

    static func register(_ plugin: PluginRegistry<CPUHotplugPlugin>) {
        registerDirtyLimit(plugin)
        for family in CPUFamily.allCases {
            for model in family.models {
                plugin.device(driverDescription(family, model),
                              addDevice: { this, device, props in this.plugCPU(type: family.typeName(model), family: family, device, props) },
                              remove: { this, id in this.unplugCPU(id) })
            }
        }
        plugin.command(QAPI.QueryHotpluggableCpusCommand.self) { this, _ in this.queryHotpluggableCPUs() }
        plugin.command(QAPI.QueryCpusFastCommand.self) { this, _ in .success(this.queryCPUsFast()) }
        plugin.command(QAPI.CpuCommand.self) { this, args in this.selectCPU(args.index) }
        plugin.command(QAPI.CpuAddCommand.self) { this, args in this.cpuAdd(args.id) }
    }

    static func driverDescription(_ family: CPUFamily, _ model: String) -> JSONValue {
        [
            "name": .string(family.typeName(model)),
            "parent": family == .spapr ? "spapr-cpu-core" : (family == .x86 ? "x86_64-cpu" : "arm-cpu"),
            "hotpluggable": true,
            "properties": .array(family.propertyNames.map { ["name": .string($0), "type": "int"] }),
        ]
    }

    func runStateChanged(to state: String) {
        guard state == "running" else { return }
        guestBooted = true
        guest.runStateChanged(to: state)
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: CPUHotplugPlugin.self) }
