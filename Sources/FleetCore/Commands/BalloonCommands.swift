import QAPIRuntime
import QMPWire

/// `balloon` and `query-balloon` (QEMU's `machine.json`) on a VM without
/// the balloon plugin, so without any virtio-balloon device: QEMU 7.2
/// answers both with DeviceNotActive "No balloon device has been
/// activated", whatever the value. The balloon plugin takes both over.
enum BalloonCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryBalloonCommand.self) { _, _ in .failure(notActive) },
        .immediate(QAPI.BalloonCommand.self) { _, args in .failure(notActive) },
    ]

    /// `have_balloon()`'s error.
    static let notActive = QMPError(.deviceNotActive, "No balloon device has been activated")
}
