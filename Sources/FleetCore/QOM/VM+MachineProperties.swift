#if canImport(Glibc)
import Glibc
#endif
import QEMUReference
import QMPWire

/// `/machine`'s properties as QEMU 7.2 lists and reads them: the list of
/// the VM's board in QEMU's order and the board's defaults, both recorded
/// from QEMU (`BoardReferenceData.machineProperties`), with what the VM's
/// own configuration decides read from it (`memory`, `smp`, the RAM
/// backend, the device-memory region, the RTC's time), never from the
/// recording.
extension VM {
    /// `qom-list /machine`; nil for a board that was not recorded.
    var machinePropertyList: [JSONValue]? {
        guard let recorded = BoardReferenceData.shared?.machineProperties(machineType: spec.machine.type) else { return nil }
        return deviceMemoryRegionSize > 0 ? recorded.listWithDeviceMemory : recorded.list
    }

    /// `qom-get /machine NAME`; nil when the machine has no such property.
    func machineProperty(_ name: String) -> JSONValue? {
        guard let list = machinePropertyList,
              let listed = list.first(where: { $0["name"]?.stringValue == name }) else { return nil }
        let machine = spec.machine
        switch name {
        case "memory":
            var memory: JSONObject = ["size": .uint(machine.ramBytes)]
            if machine.memorySlots > 0 {
                memory["slots"] = .int(Int64(machine.memorySlots))
                memory["max-size"] = .uint(machine.maxMemoryBytes)
            }
            return .object(memory)
        case "smp":
            let smp = machine.smp
            return ["cpus": .int(Int64(smp.cpus)), "maxcpus": .int(Int64(smp.maxCPUs)), "threads": .int(Int64(smp.threads)),
                    "cores": .int(Int64(smp.cores)), "dies": 1, "sockets": .int(Int64(smp.sockets)), "clusters": 1]
        case "memory-backend":
            return .string(boardRAMBackend.map { "/objects/\($0.id)" } ?? "")
        case "device-memory-region-size":
            return .uint(deviceMemoryRegionSize)
        case "rtc-time":
            return Self.rtcTime()
        default:
            // A child reads as its path (object_get_child_property).
            if listed["type"]?.stringValue?.hasPrefix("child<") == true { return .string("/machine/\(name)") }
            return BoardReferenceData.shared?.machineProperties(machineType: machine.type)?.values[name]
        }
    }

    /// The region hot-plugged memory goes in: what `maxmem` adds over the
    /// RAM, plus 1 GiB of alignment room per slot (pc, q35 and virt in 7.2).
    private var deviceMemoryRegionSize: UInt64 {
        let machine = spec.machine
        guard machine.maxMemoryBytes > machine.ramBytes else { return 0 }
        return machine.maxMemoryBytes - machine.ramBytes + UInt64(machine.memorySlots) << 30
    }

    /// The RTC's time, `-rtc base=utc` (QEMU's default): the host's UTC now,
    /// as `struct tm` members in QEMU's order.
    private static func rtcTime() -> JSONValue {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return ["tm_year": .int(Int64(parts.tm_year)), "tm_sec": .int(Int64(parts.tm_sec)), "tm_hour": .int(Int64(parts.tm_hour)),
                "tm_min": .int(Int64(parts.tm_min)), "tm_mon": .int(Int64(parts.tm_mon)), "tm_mday": .int(Int64(parts.tm_mday))]
    }
}
