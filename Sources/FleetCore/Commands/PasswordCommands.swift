import QAPIRuntime
import QMPWire

/// `set_password` and `expire_password` (QEMU's `ui.json`) on a VM with no
/// remote display: no VNC server and no SPICE, as `-display none` gives.
///
/// QEMU 7.2's answers, checked: for SPICE, DeviceNotActive "SPICE is not
/// in use"; for VNC, `connected` other than `keep` is "Invalid parameter
/// 'connected'", else the VNC layer finds no display and the command fails
/// with "Could not set password" / "Could not set password expire time".
enum PasswordCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.SetPasswordCommand.self) { context, args in
            if args.protocol == .spice { return .failure(spiceNotInUse) }
            if let connected = args.connected, connected != .keep {
                return .failure(.generic("Invalid parameter 'connected'"))
            }
            return .failure(.generic("Could not set password"))
        },
        .immediate(QAPI.ExpirePasswordCommand.self) { context, args in
            if args.protocol == .spice { return .failure(spiceNotInUse) }
            return .failure(.generic("Could not set password expire time"))
        },
    ]

    static let spiceNotInUse = QMPError(.deviceNotActive, "SPICE is not in use")
}
