import QMPPluginKit
import QMPWire

/// The CPU hot-plug plugin's part of a live migration: which possible-CPU
/// slots are filled (by the boot CPUs, `device_add` or `cpu-add`), their
/// QOM paths and realization order, so the target's `query-cpus-fast` and
/// `query-hotpluggable-cpus` become the source's. The target must have the
/// same topology (`smp:`), as QEMU needs the same `-smp`. Version 1.
extension CPUHotplugPlugin: MigratablePlugin {
    static let migrationVersion: Int64 = 1

    func saveState() -> JSONValue {
        let slotStates: [JSONValue] = slots.map { slot in
            var state: JSONObject = ["realized-order": .int(Int64(slot.realizedOrder)), "unplug-requested": .bool(slot.unplugRequested)]
            switch slot.occupant {
            case .boot?: state["occupant"] = "boot"
            case .cpuAdd?: state["occupant"] = "cpu-add"
            case .device(let id)?:
                state["occupant"] = "device"
                if let id { state["id"] = .string(id) }
            case nil: break
            }
            if let path = slot.qomPath { state["qom-path"] = .string(path) }
            return .object(state)
        }
        return [
            "version": .int(CPUHotplugPlugin.migrationVersion), "model": .string(model), "slots": .array(slotStates),
            "default-cpu": .int(Int64(defaultCPU)), "guest-booted": .bool(guestBooted),
            "next-unattached": .int(Int64(nextUnattached)),
            "realized-count": .int(Int64(realizedCount)),
        ]
    }

    func loadState(_ state: JSONValue) throws(PluginError) {
        guard let version = state["version"]?.int64Value, (1...CPUHotplugPlugin.migrationVersion).contains(version) else {
            throw PluginError("cpu-hotplug: unsupported state version \(state["version"]?.jsonText ?? "none")")
        }
        let saved = state["slots"]?.arrayValue ?? []
        guard saved.count == slots.count else {
            throw PluginError("cpu-hotplug: the source has \(saved.count) possible CPUs, this VM \(slots.count) (-smp differs)")
        }
        guard state["model"]?.stringValue == model else {
            throw PluginError("cpu-hotplug: the source's CPU model is \(state["model"]?.stringValue ?? "?"), this VM's \(model)")
        }
        func count(_ key: String) -> Int { Int(clamping: state[key]?.int64Value ?? 0) }
        for (slot, entry) in zip(slots, saved) {
            switch entry["occupant"]?.stringValue {
            case "boot": slot.occupant = .boot
            case "cpu-add": slot.occupant = .cpuAdd
            case "device": slot.occupant = .device(id: entry["id"]?.stringValue)
            default: slot.occupant = nil
            }
            slot.qomPath = entry["qom-path"]?.stringValue
            slot.realizedOrder = Int(clamping: entry["realized-order"]?.int64Value ?? 0)
            slot.unplugRequested = entry["unplug-requested"]?.boolValue ?? false
        }
        defaultCPU = count("default-cpu")
        guestBooted = state["guest-booted"]?.boolValue ?? guestBooted
        nextUnattached = count("next-unattached")
        realizedCount = count("realized-count")
        guest.discardAll()
    }
}
