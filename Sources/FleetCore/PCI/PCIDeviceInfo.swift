import QMPWire

/// `query-pci`'s answer from the bus's state: the board's recorded bus
/// with its own functions, and each plugged device's entry as QEMU 7.2
/// gives it for that driver (recorded, `PCIReferenceData`) at the slot,
/// function and qdev id the device has, in devfn order.
///
/// The recorded entries are those of a machine that has not run its
/// firmware (`-S`): BARs unassigned (`address` -1) and `irq` 0, which is
/// what a simulated guest, which programs no PCI config space, leaves.
enum PCIDeviceInfo {
    /// `boardReply` is the board's recorded query-pci (`[{"bus": 0, "devices": [...]}]`).
    static func reply(boardReply: JSONValue, bus: PCIBus, reference: PCIReferenceData.Board) -> JSONValue {
        guard var buses = boardReply.arrayValue, var root = buses.first?.objectValue else { return boardReply }
        var entries: [(PCIAddress, JSONValue)] = []
        for entry in root["devices"]?.arrayValue ?? [] {
            guard let slot = entry["slot"]?.int64Value, let function = entry["function"]?.int64Value,
                  let address = PCIAddress(slot: Int(slot), function: Int(function)) else { continue }
            entries.append((address, entry))
        }
        for device in bus.pluggedDevices {
            guard let address = device.pciAddress, let entry = self.entry(for: device, at: address, reference: reference) else { continue }
            entries.append((address, .object(entry)))
        }
        root["devices"] = .array(entries.sorted { $0.0 < $1.0 }.map(\.1))
        buses[0] = .object(root)
        return .array(buses)
    }

    /// The recorded entry of the device's driver, moved to its place
    /// (the keys stay where QEMU puts them).
    static func entry(for device: Device, at address: PCIAddress, reference: PCIReferenceData.Board) -> JSONObject? {
        guard var entry = reference.entries[device.driver] else { return nil }
        entry["slot"] = .int(Int64(address.slot))
        entry["function"] = .int(Int64(address.function))
        entry["qdev_id"] = .string(device.id ?? "")
        return entry
    }
}
