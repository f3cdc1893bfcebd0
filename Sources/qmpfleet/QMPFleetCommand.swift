import ArgumentParser

/// `qmpfleet`: a fleet of simulated QEMU VMs, each with its own QMP socket.
///
/// ```
/// $ qmpfleet serve --config config/fleet.yaml
/// $ socat - UNIX-CONNECT:$XDG_RUNTIME_DIR/qmpfleet/web.qmp
/// {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}
/// ```
@main
struct QMPFleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qmpfleet",
        abstract: "Hosts a fleet of simulated QEMU VMs, each with its own QMP unix socket.",
        subcommands: [Serve.self, CheckConfig.self],
        defaultSubcommand: Serve.self
    )
}
