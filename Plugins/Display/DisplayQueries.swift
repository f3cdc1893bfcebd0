import QMPPluginKit
import QMPWire

/// `query-display-options` and `query-vnc` (QEMU's `ui.json`), answered
/// from what the simulated VM has.
///
/// - A simulated VM never opens a window on the host: its display is what
///   `-display none` gives, `{"type": "none"}` (QEMU 7.2 answers the same
///   with `-display none`, and with `-vnc` alone).
/// - QEMU's `qmp_query_vnc` reports `enabled: true`, with the listening
///   address, auth and clients, only when a VNC display has a listening
///   socket; otherwise `{"enabled": false}`. The simulated VNC server
///   (`vnc:` in the config) keeps password state for set_password and
///   expire_password but listens nowhere, so it is the latter.
extension DisplayPlugin {
    static func registerQueries(_ plugin: PluginRegistry<DisplayPlugin>) {
        plugin.command(QAPI.QueryDisplayOptionsCommand.self) { this, _ in .success(this.displayOptions()) }
        plugin.command(QAPI.QueryVncCommand.self) { this, _ in .success(this.vncInfo()) }
    }

    func displayOptions() -> JSONValue {
        ["type": "none"]
    }

    func vncInfo() -> JSONValue {
        // Enabled once display-update gave the server an address.
        guard let vnc, let first = vnc.listenAddresses.first else { return ["enabled": false] }
        var info = VNCDisplayAddress.basicInfo(first).objectValue ?? [:]
        info.removeValue(forKey: "websocket")
        info["enabled"] = true
        info["auth"] = .string(vnc.authName)
        info["clients"] = []
        return .object(info)
    }
}
