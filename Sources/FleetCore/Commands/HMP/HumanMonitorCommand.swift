import PluginHost
import QAPIRuntime
import QMPWire

/// `human-monitor-command`: the HMP commands management software sends
/// through QMP (and `qmp-shell -H` users type). The output is HMP's text with
/// `\r\n` line ends, as QEMU's monitor writes it; an unknown command is not
/// an error, just HMP's message.
///
/// The `info` commands QEMU prints from a QMP query (`info block`, `info
/// chardev`, `info cpus`, `info pci`) run that query on the VM as a client's
/// request would (`VM.execute`: the core's or a plugin's handler) and print
/// its reply as QEMU's `hmp_info_*` prints the same QAPI value
/// (`HMPInfoQuery`), so what they show is the VM's state, whoever owns it.
/// What no query carries (`info network`) a plugin prints itself, as it
/// registered (`register_hmp_info`).
enum HumanMonitorCommand {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .deferred(QAPI.HumanMonitorCommandCommand.self) { context, args, complete in
            if let cpu = args.cpuIndex, !context.vm.hasCPU(index: cpu) {
                // monitor_set_cpu refuses a CPU the VM does not have.
                return complete(.failure(.generic("Parameter 'cpu-index' expects a CPU number")))
            }
            run(args.commandLine, cpu: args.cpuIndex, on: context.vm) { complete(.success(.string($0))) }
        },
    ]

    /// Runs one HMP command line; `complete` gets its output (monitor line
    /// ends: `\r\n`), at once or after the query it prints.
    static func run(_ line: String, cpu: Int64? = nil, on vm: VM, complete: @escaping (String) -> Void) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let command = words.first else { return complete("") }
        guard command == "info" else { return complete(monitorText(runCommand(command, on: vm))) }
        guard let sub = words.dropFirst().first else { return complete("info: missing argument\r\n") }
        let arguments = Array(words.dropFirst(2))
        if let query = HMPInfoQuery.named(sub) {
            switch query.parse(arguments, cpu: cpu) {
            case .failure(let refusal): complete(monitorText(refusal.message))
            case .success(let parsed): query.print(vm, parsed) { complete(monitorText($0)) }
            }
            return
        }
        if let plugin = vm.plugins.first(where: { $0.library.hmpInfo[sub] != nil }), let handler = plugin.library.hmpInfo[sub] {
            // A plugin's own (`info network`: the net clients are the net plugin's).
            guard arguments.isEmpty else { return complete(monitorText(HMPInfoQuery.extraneous(sub))) }
            plugin.invoke(handler, command: "info \(sub)", arguments: [:]) { reply in
                switch reply.result {
                case .success(let text): complete(monitorText(text.stringValue ?? ""))
                case .failure(let error): complete(monitorText("Error: \(error.desc)\n"))
                }
            }
            return
        }
        guard let text = info(sub, on: vm) else { return complete("unknown command: 'info \(sub)'\r\n") }
        complete(monitorText(arguments.isEmpty ? text : HMPInfoQuery.extraneous(sub)))
    }

    /// The `info` commands that print the VM's own fields, or nil for one
    /// HMP does not know here.
    private static func info(_ sub: String, on vm: VM) -> String? {
        switch sub {
        case "status":
            return "VM status: \(statusText(vm.runState))\n"
        case "version":
            let v = vm.owner.qemuVersion
            return "\(v.major).\(v.minor).\(v.micro)\(v.package)\n"
        case "name":
            return vm.spec.guestName.map { "\($0)\n" } ?? ""
        case "uuid":
            return "\(vm.spec.uuid)\n"
        case "kvm":
            return vm.spec.machine.kvmEnabled ? "kvm support: enabled\n" : "kvm support: disabled\n"
        default:
            return nil
        }
    }

    /// The run-state commands.
    private static func runCommand(_ command: String, on vm: VM) -> String {
        switch command {
        case "stop":
            vm.stopCommand()
            return ""
        case "cont", "c":
            if case .failure(let error) = vm.cont() { return "Error: \(error.desc)\n" }
            return ""
        case "system_reset":
            vm.reset(cause: .hostQmpSystemReset)
            return ""
        case "system_powerdown":
            vm.powerdown()
            return ""
        default:
            return "unknown command: '\(command)'\n"
        }
    }

    /// HMP's text as its monitor sends it: every `\n` a `\r\n`.
    static func monitorText(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "\n")) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            if character == "\n" { out.unicodeScalars.append("\r") }
            out.unicodeScalars.append(character)
        }
        return out
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
