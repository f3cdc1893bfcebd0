import QMPWire

/// An HMP `info` command that QEMU prints from a QMP query's reply: its
/// name, the query, what its arguments may be and how the reply is printed.
/// QEMU's `hmp_info_block`, `hmp_info_chardev`, `hmp_info_cpus` and
/// `hmp_info_pci` call `qmp_query_*` and print the QAPI value; these do the
/// same with the VM's reply, so a device added is listed and a deleted one
/// gone, whichever plugin holds it.
struct HMPInfoQuery {
    /// What the command line asked beyond the command's name: `info block`'s
    /// `-n`, `-v` and device; nothing for the others.
    struct Arguments {
        var nodes = false
        var verbose = false
        var device: String?
        /// The monitor's current CPU (`human-monitor-command`'s
        /// `cpu-index`), nil for the first.
        var cpu: Int64?
    }

    let name: String
    /// Whether the command takes `info block`'s arguments
    /// (`nodes:-n,verbose:-v,device:B?`); the others take none.
    let takesBlockArguments: Bool
    /// Runs the queries on the VM and gives the text.
    let print: (VM, Arguments, @escaping (String) -> Void) -> Void

    /// The commands, by their HMP name.
    static func named(_ name: String) -> HMPInfoQuery? {
        all.first { $0.name == name }
    }

    nonisolated(unsafe) private static let all: [HMPInfoQuery] = [
        HMPInfoQuery(name: "block", takesBlockArguments: true, print: BlockInfoText.print),
        printing("chardev", "query-chardev") { reply, _ in
            // hmp_info_chardev: one "label: filename=..." line each.
            (reply.arrayValue ?? []).map { "\($0["label"]?.stringValue ?? ""): filename=\($0["filename"]?.stringValue ?? "")\n" }.joined()
        },
        printing("cpus", "query-cpus-fast") { reply, arguments in CPUInfoText.text(reply, current: arguments.cpu) },
        printing("pci", "query-pci", { reply, _ in PCIInfoText.text(reply) }, failure: "PCI devices not supported\n"),
    ]

    /// A command without arguments that prints one query's reply; a failed
    /// query prints `failure` when QEMU has words of its own for it, else
    /// the error (hmp_handle_error).
    private static func printing(_ name: String, _ command: String, _ format: @escaping (JSONValue, Arguments) -> String,
                                 failure: String? = nil) -> HMPInfoQuery {
        HMPInfoQuery(name: name, takesBlockArguments: false) { vm, arguments, complete in
            vm.execute(command, nil) { reply in
                switch reply {
                case .success(let value): complete(format(value, arguments))
                case .failure(let error): complete(failure ?? "Error: \(error.desc)\n")
                }
            }
        }
    }

    /// The arguments of `words` (what followed the command's name), or HMP's
    /// message for a line it refuses.
    func parse(_ words: [String], cpu: Int64?) -> Result<Arguments, HMPLineError> {
        var arguments = Arguments(cpu: cpu)
        guard takesBlockArguments else {
            return words.isEmpty ? .success(arguments) : .failure(HMPLineError(Self.extraneous(name)))
        }
        var rest = words[...]
        // monitor_parse_arguments reads the flags in their declared order.
        if rest.first == "-n" { arguments.nodes = true; rest = rest.dropFirst() }
        if rest.first == "-v" { arguments.verbose = true; rest = rest.dropFirst() }
        if let device = rest.first {
            arguments.device = device
            rest = rest.dropFirst()
        }
        return rest.isEmpty ? .success(arguments) : .failure(HMPLineError(Self.extraneous(name)))
    }

    /// monitor_parse_arguments' refusal of words past a command's arguments.
    static func extraneous(_ name: String) -> String {
        "\(name): extraneous characters at the end of line\nTry \"help info \(name)\" for more information\n"
    }
}

/// HMP's message for a command line it refuses: printed, not an error.
struct HMPLineError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
