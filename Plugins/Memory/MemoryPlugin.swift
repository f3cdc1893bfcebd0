import QMPPluginKit
import QMPWire

/// Memory hot-plug and its ACPI side, as QEMU's `machine.json` and
/// `acpi.json` serve them: the `memory-backend-ram`/`memory-backend-file`
/// QOM types, `pc-dimm`/`nvdimm` devices placed in the board's hot-plug
/// window, `query-memdev`, `query-memory-devices`, `query-acpi-ospm-status`
/// and `rtc-reset-reinjection`. A simulated guest answers ACPI hot-plug
/// events (`ACPI_DEVICE_OST`) and lets go of unplugged DIMMs.
///
/// The RAM size, slots and maxmem come from the VM's `memory:` entry.
///
/// Config keys (`plugins: {memory: ...}`), all optional:
/// - `nvdimm`: true for `-machine nvdimm=on` (default false).
/// - `numa-nodes`: guest NUMA nodes (default 1 when the VM has slots, as QEMU adds one).
/// - `host-nodes`: NUMA nodes of the simulated host (default 1).
/// - `guest-ack-ms`: how long the guest's ACPI takes to answer (default 100).
/// - `memdevs`: backends created with the VM, each `{id: m0, size: 1G, qom-type: memory-backend-ram, ...}`.
///
/// Guest action `unplug-response` `{response: accept|refuse|eject-error}`
/// sets how the guest answers the next DIMM unplug requests.
final class MemoryPlugin: QMPPlugin {
    static let name = "memory"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    let config: MemoryConfig
    let layout: MachineLayout
    /// Backends in creation order.
    var backends: [MemoryBackend] = []
    /// Plugged DIMMs in plug order.
    var dimms: [DIMM] = []
    /// The `_OST` state of each ACPI memory slot.
    var acpiSlots: [ACPISlotStatus]
    var unplugResponse = UnplugResponse.accept
    /// Guest answers that wait for the VM to run.
    let guest = GuestWorkQueue()
    /// `sev-guest` objects by id, with their settings (`SEVGuestObject`).
    var sevGuests: [String: JSONObject] = [:]

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        self.config = try MemoryConfig(config)
        layout = MachineLayout(machine: vm.machine, numaNodes: self.config.numaNodes)
        acpiSlots = Array(repeating: ACPISlotStatus(), count: layout.slots)
        for entry in self.config.memdevs {
            var props = entry
            let type = props.removeValue(forKey: "qom-type")?.stringValue ?? MemoryBackend.Kind.ram.rawValue
            guard let kind = MemoryBackend.Kind(rawValue: type) else { throw PluginError("memory: memdevs: unknown qom-type '\(type)'") }
            guard let id = props.removeValue(forKey: "id")?.stringValue else { throw PluginError("memory: memdevs: every backend needs an id") }
            if let text = props["size"]?.stringValue {
                guard let bytes = ByteSize.parse(text) else { throw PluginError("memory: memdevs: bad size '\(text)'") }
                props["size"] = .uint(bytes)
            }
            if case .failure(let error) = addBackend(kind: kind, id: id, props) { throw PluginError("memory: memdev \(id): \(error.desc)") }
        }
    }

    static func register(_ plugin: PluginRegistry<MemoryPlugin>) {
        for kind in MemoryBackend.Kind.allCases {
            plugin.objectType(objectTypeDescription(kind),
                              add: { this, id, props in this.addBackend(kind: kind, id: id ?? "", props).map { _ in } },
                              remove: { this, id in this.removeBackend(id) })
        }
        for kind in DIMM.Kind.allCases {
            plugin.device(driverDescription(kind),
                          addDevice: { this, device, props in this.plugDIMM(kind: kind, device, props) },
                          remove: { this, id in this.unplugDIMM(id) })
        }
        plugin.command(QAPI.QueryMemdevCommand.self) { this, _ in .success(this.queryMemdev()) }
        plugin.command(QAPI.QueryMemoryDevicesCommand.self) { this, _ in .success(.array(this.dimms.map(\.info))) }
        plugin.command(QAPI.QueryAcpiOspmStatusCommand.self) { this, _ in this.queryACPIOSPMStatus() }
        plugin.command(QAPI.RtcResetReinjectionCommand.self) { this, _ in
            this.layout.isX86 ? .success(.object([:])) : .failure(.commandNotFound("rtc-reset-reinjection"))
        }
        registerSEVGuest(plugin)
        plugin.guestAction(QAPI.UnplugResponseGuestAction.self) { this, args in this.setUnplugResponse(args) }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: MemoryPlugin.self) }
