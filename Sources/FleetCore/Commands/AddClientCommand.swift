import QAPIRuntime
import QMPWire

/// `add_client` (misc.json): hands a descriptor that `getfd` named to a
/// display server. QEMU 7.2 takes the descriptor first (unknown name:
/// its error), then: `spice` needs SPICE, which the simulated VMs never
/// run (DeviceNotActive); `vnc` gives it to the VNC server, which takes
/// it whether or not one is configured (QEMU drops it when there is none);
/// any other protocol that names no chardev is invalid. Chardev socket
/// clients by chardev name are not simulated: they are refused as invalid.
enum AddClientCommand {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.AddClientCommand.self) { context, args in
            let name = args.fdname
            let protocolName = args.protocol
            // The descriptor is the command's either way: closed when refused.
            guard context.vm.fdSets.closeNamed(name) else {
                return .failure(.generic("File descriptor named '\(name)' has not been found"))
            }
            switch protocolName {
            case "spice": return .failure(QMPError(.deviceNotActive, "SPICE is not in use"))
            case "vnc": return .ok
            default: return .failure(.generic("protocol '\(protocolName)' is invalid"))
            }
        },
    ]
}
