import QAPIRuntime
import QMPWire

/// `human-monitor-command`: the HMP commands management software sends
/// through QMP. The output is HMP's text with `\r\n` line ends, as QEMU's
/// monitor writes it; an unknown command is not an error, just HMP's message.
enum HumanMonitorCommand {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.HumanMonitorCommandCommand.self) { context, args in
            let line = args.commandLine
            return .success(.string(run(line, on: context.vm)))
        },
    ]

    static func run(_ line: String, on vm: VM) -> String {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let command = words.first else { return "" }
        switch (command, words.dropFirst().first) {
        case ("info", "status"?):
            return "VM status: \(statusText(vm.runState))\r\n"
        case ("info", "version"?):
            let v = vm.owner.qemuVersion
            return "\(v.major).\(v.minor).\(v.micro)\(v.package)\r\n"
        case ("info", "name"?):
            return vm.spec.guestName.map { "\($0)\r\n" } ?? ""
        case ("info", "uuid"?):
            return "\(vm.spec.uuid)\r\n"
        case ("info", "kvm"?):
            return vm.spec.machine.kvmEnabled ? "kvm support: enabled\r\n" : "kvm support: disabled\r\n"
        case ("info", let sub?):
            return "unknown command: 'info \(sub)'\r\n"
        case ("info", nil):
            return "info: missing argument\r\n"
        case ("stop", _):
            vm.stopCommand()
            return ""
        case ("cont", _), ("c", _):
            if case .failure(let error) = vm.cont() { return "Error: \(error.desc)\r\n" }
            return ""
        case ("system_reset", _):
            vm.reset(cause: .hostQmpSystemReset)
            return ""
        case ("system_powerdown", _):
            vm.powerdown()
            return ""
        default:
            return "unknown command: '\(command)'\r\n"
        }
    }

    /// HMP's `info status` wording (hmp_info_status).
    static func statusText(_ state: RunState) -> String {
        switch state {
        case .running: return "running"
        case .prelaunch: return "paused (prelaunch)"
        case .paused: return "paused"
        default: return "paused (\(state.rawValue))"
        }
    }
}
