import QMPWire

/// `query-command-line-options`: the option groups QEMU reports, which
/// libvirt probes to learn the command-line syntax (QEMU 7.2's answer for
/// the groups it asks about; parameters that QEMU lists as free-form are empty).
enum CommandLineOptions {
    static let groups: [(option: String, parameters: [(name: String, type: String)])] = [
        ("machine", [("type", "string"), ("accel", "string"), ("memory-backend", "string"), ("dump-guest-core", "boolean"),
                     ("mem-merge", "boolean"), ("usb", "boolean"), ("graphics", "boolean"), ("kernel-irqchip", "string")]),
        ("drive", [("file", "string"), ("if", "string"), ("index", "number"), ("media", "string"), ("format", "string"),
                   ("readonly", "boolean"), ("cache", "string"), ("aio", "string"), ("discard", "string"), ("werror", "string"), ("rerror", "string")]),
        ("chardev", [("backend", "string"), ("path", "string"), ("server", "boolean"), ("wait", "boolean"), ("logfile", "string"), ("logappend", "boolean")]),
        ("netdev", []),
        ("device", []),
        ("object", []),
        ("smp-opts", [("cpus", "number"), ("sockets", "number"), ("dies", "number"), ("clusters", "number"), ("cores", "number"), ("threads", "number"), ("maxcpus", "number")]),
        ("memory", [("size", "size"), ("slots", "number"), ("maxmem", "size")]),
        ("spice", []),
        ("vnc", []),
        ("sandbox", [("enable", "boolean"), ("obsolete", "string"), ("elevateprivileges", "string"), ("spawn", "string"), ("resourcecontrol", "string")]),
        ("overcommit", [("mem-lock", "boolean"), ("cpu-pm", "boolean")]),
        ("msg", [("timestamp", "boolean"), ("guest-name", "boolean")]),
        ("name", [("guest", "string"), ("process", "string"), ("debug-threads", "boolean")]),
        ("rtc", [("base", "string"), ("clock", "string"), ("driftfix", "string")]),
        ("boot-opts", [("order", "string"), ("once", "string"), ("menu", "boolean"), ("splash", "string"), ("splash-time", "number"), ("reboot-timeout", "number"), ("strict", "boolean")]),
        ("accel", [("accel", "string")]),
        ("fsdev", []),
        ("numa", []),
        ("iscsi", []),
    ]

    static func query(option: String?) -> CommandResult {
        let selected = groups.filter { option == nil || $0.option == option }
        if let option, selected.isEmpty {
            return .failure(.generic("invalid option name: \(option)"))
        }
        return .success(.array(selected.map { group in
            [
                "parameters": .array(group.parameters.map { ["name": .string($0.name), "type": .string($0.type)] }),
                "option": .string(group.option),
            ]
        }))
    }
}
