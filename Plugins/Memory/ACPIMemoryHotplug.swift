import QMPPluginKit
import QMPWire

/// The `_OST` (OSPM status) a memory slot last reported: ACPI's source
/// event and status code, as `query-acpi-ospm-status` and
/// `ACPI_DEVICE_OST` show them.
struct ACPISlotStatus: Equatable {
    var source: Int64 = 0
    var status: Int64 = 0

    /// ACPI event and status codes the simulated guest reports (ACPI 5.0, 6.3.5).
    static let deviceCheck: Int64 = 0x1
    static let ejectRequest: Int64 = 0x3
    static let ospmEject: Int64 = 0x103
    static let success: Int64 = 0
    static let deviceBusy: Int64 = 0x82
    static let ejectInProgress: Int64 = 0x84
}

/// How the simulated guest answers an unplug request.
enum UnplugResponse: String {
    /// Linux offlines the memory and ejects: `_OST(0x103, 0x84)`, then the DIMM goes.
    case accept
    /// Linux cannot offline the memory: `_OST(3, 0x82)`, the DIMM stays.
    case refuse
    /// The guest ejects but the board fails to remove the DIMM (QEMU's
    /// `acpi_memory_hotplug_write` error path): MEM_UNPLUG_ERROR and
    /// DEVICE_UNPLUG_GUEST_ERROR.
    case ejectError = "eject-error"
}

/// The ACPI side of memory hot-plug: the guest's answers to insert and
/// eject notifications, on a timer and only while the VM runs.
extension MemoryPlugin {
    func queryACPIOSPMStatus() -> Result<JSONValue, QMPError> {
        guard layout.hasACPI else { return .failure(.generic("command is not supported, missing ACPI device")) }
        return .success(.array(acpiSlots.indices.map { ostInfo(slot: $0) }))
    }

    func ostInfo(slot: Int) -> JSONValue {
        var info = JSONObject()
        if let id = dimms.first(where: { $0.slot == slot && $0.kind == .dimm })?.id { info["device"] = .string(id) }
        info["slot"] = .string(String(slot))
        info["slot-type"] = "DIMM"
        info["source"] = .int(acpiSlots[slot].source)
        info["status"] = .int(acpiSlots[slot].status)
        return .object(info)
    }

    /// The guest evaluates `_OST` for a slot: QEMU records it and tells clients.
    func guestReportsOST(slot: Int, source: Int64, status: Int64) {
        guard acpiSlots.indices.contains(slot) else { return }
        acpiSlots[slot] = ACPISlotStatus(source: source, status: status)
        vm.emit("ACPI_DEVICE_OST", ["info": ostInfo(slot: slot)])
    }

    /// A running guest acknowledges a hot-added DIMM (`_OST(1, 0)`). One
    /// that is not running finds it at boot and reports nothing.
    func guestNoticesPlug(_ dimm: DIMM) {
        guard layout.hasACPI, vm.isRunning else { return }
        vm.startTimer(afterMilliseconds: config.guestAckMilliseconds) { [weak self, weak dimm] in
            guard let self, let dimm, self.dimms.contains(where: { $0 === dimm }) else { return }
            self.guestReportsOST(slot: dimm.slot, source: ACPISlotStatus.deviceCheck, status: ACPISlotStatus.success)
        }
    }

    /// The guest answers an eject request once it runs.
    func guestHandlesEjectRequest(_ dimm: DIMM) {
        guest.whenRunning(on: vm) { [weak self] in
            guard let self else { return }
            self.vm.startTimer(afterMilliseconds: self.config.guestAckMilliseconds) { [weak self, weak dimm] in
                guard let self, let dimm, self.dimms.contains(where: { $0 === dimm }) else { return }
                self.answerEject(dimm)
            }
        }
    }

    private func answerEject(_ dimm: DIMM) {
        dimm.unplugRequested = false
        switch unplugResponse {
        case .accept:
            guestReportsOST(slot: dimm.slot, source: ACPISlotStatus.ospmEject, status: ACPISlotStatus.ejectInProgress)
            release(dimm)
        case .refuse:
            guestReportsOST(slot: dimm.slot, source: ACPISlotStatus.ejectRequest, status: ACPISlotStatus.deviceBusy)
        case .ejectError:
            guestReportsOST(slot: dimm.slot, source: ACPISlotStatus.ospmEject, status: ACPISlotStatus.ejectInProgress)
            vm.emit("MEM_UNPLUG_ERROR", ["device": .string(dimm.id ?? ""),
                                         "msg": .string("Memory hotunplug rejected by the guest for device \(dimm.id ?? "")")])
            var data = JSONObject()
            if let id = dimm.id { data["device"] = .string(id) }
            data["path"] = .string(dimm.qomPath)
            vm.emit("DEVICE_UNPLUG_GUEST_ERROR", data)
        }
    }

    func runStateChanged(to state: String) {
        guest.runStateChanged(to: state)
    }

    func setUnplugResponse(_ args: QAPI.UnplugResponseGuestAction) -> Result<JSONValue, QMPError> {
        let text = args.response
        guard let response = UnplugResponse(rawValue: text) else {
            return .failure(.generic("Parameter 'response' does not accept value '\(text)'"))
        }
        unplugResponse = response
        return .success(.object([:]))
    }
}
