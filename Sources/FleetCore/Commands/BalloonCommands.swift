import QMPWire

/// `balloon` and `query-balloon` (QEMU's `machine.json`): the guest memory
/// balloon, which only a virtio-balloon device provides.
///
/// Without one, QEMU 7.2 answers both with DeviceNotActive "No balloon
/// device has been activated", whatever the value. With one but no balloon
/// driver in the guest (our simulated guest has none), `query-balloon`
/// reports all of RAM and `balloon` accepts any positive target without the
/// guest ever reaching it, as QEMU 7.2 does with an idle guest.
enum BalloonCommands {
    /// The device types QEMU 7.2 has that carry a balloon.
    static let balloonDrivers: Set<String> = [
        "virtio-balloon-pci", "virtio-balloon-pci-transitional", "virtio-balloon-pci-non-transitional",
        "virtio-balloon-device", "virtio-balloon-ccw",
    ]

    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "query-balloon": .immediate { context in
            guard context.vm.hasBalloon else { return .failure(notActive) }
            return .success(["actual": .int(Int64(clamping: context.vm.spec.machine.ramBytes))])
        },
        "balloon": .immediate { context in
            guard context.vm.hasBalloon else { return .failure(notActive) }
            // qmp_balloon: QERR_INVALID_PARAMETER_VALUE, "target", "a size".
            guard let value = context.arguments["value"]?.int64Value, value > 0 else {
                return .failure(.generic("Parameter 'target' expects a size"))
            }
            return .ok
        },
    ]

    /// `have_balloon()`'s error.
    static let notActive = QMPError(.deviceNotActive, "No balloon device has been activated")
}

extension VM {
    /// Whether a virtio-balloon device is plugged (from config or device_add).
    var hasBalloon: Bool {
        devices.devices.contains { BalloonCommands.balloonDrivers.contains($0.driver) && !$0.unplugPending }
    }
}
