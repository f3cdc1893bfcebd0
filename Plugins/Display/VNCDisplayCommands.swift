import QMPPluginKit
import QMPWire

/// The VNC and SPICE server commands of `ui.json` beyond the password
/// ones: `change-vnc-password`, `display-reload`, `display-update`,
/// `query-vnc-servers`, `query-spice`, `client_migrate_info`.
///
/// The simulated VM never runs SPICE (QEMU's answers without `-spice`).
/// Its VNC server (`vnc:` in the config, like `-vnc none`) has no listening
/// socket until `display-update` gives it addresses; those are recorded and
/// reported by the queries as QEMU reports them, but nothing listens there
/// (nobody connects to a simulated display).
extension DisplayPlugin {
    static let noVNCDisplay = QMPError.generic("Can not find vnc display")

    static func registerVNCDisplayCommands(_ plugin: PluginRegistry<DisplayPlugin>) {
        plugin.command(QAPI.ChangeVncPasswordCommand.self) { this, args in
            guard this.vnc?.setPassword(args.password) == true else {
                return .failure(.generic("Could not set password"))
            }
            return .success(.object([:]))
        }
        plugin.command(QAPI.DisplayReloadCommand.self) { this, args in
            // Only reloading certificates looks for the display; no simulated
            // one has x509 credentials to reload.
            guard case .vnc(let vnc) = args.variant, vnc.tlsCerts == true else { return .success(.object([:])) }
            guard this.vnc != nil else { return .failure(noVNCDisplay) }
            return .failure(.generic("vnc tls is not enabled"))
        }
        plugin.command(QAPI.DisplayUpdateCommand.self) { this, args in
            guard this.vnc != nil else { return .failure(noVNCDisplay) }
            if case .vnc(let vnc) = args.variant, let addresses = vnc.addresses { this.vnc?.listenAddresses = addresses.map(\.qapiValue) }
            return .success(.object([:]))
        }
        plugin.command(QAPI.QueryVncServersCommand.self) { this, _ in
            guard let vnc = this.vnc else { return .success([]) }
            let servers: [JSONValue] = vnc.listenAddresses.map { address in
                var info = VNCDisplayAddress.basicInfo(address).objectValue ?? [:]
                info["auth"] = .string(vnc.authName)
                return .object(info)
            }
            return .success([["id": .string(VNCServer.displayID), "server": .array(servers), "clients": [],
                              "auth": .string(vnc.authName)]])
        }
        plugin.command(QAPI.QuerySpiceCommand.self) { _, _ in
            .success(["enabled": false, "migrated": false, "mouse-mode": "client"])
        }
        plugin.command(QAPI.ClientMigrateInfoCommand.self) { _, args in
            guard args.protocol == "spice" else {
                return .failure(.generic("Parameter 'protocol' expects 'spice'"))
            }
            return .failure(DisplayPlugin.spiceNotInUse)
        }
    }
}

extension VNCServer {
    /// VncPrimaryAuth's name for the server's auth.
    var authName: String { passwordAuth ? "vnc" : "none" }
}

/// A SocketAddress (`display-update`'s) as VncBasicInfo reports it.
enum VNCDisplayAddress {
    static func basicInfo(_ address: JSONValue) -> JSONValue {
        switch address["type"]?.stringValue {
        case "unix":
            return ["host": "", "service": address["path"] ?? "", "family": "unix", "websocket": false]
        case "vsock":
            return ["host": address["cid"] ?? "", "service": address["port"] ?? "", "family": "vsock", "websocket": false]
        default:
            let host = address["host"]?.stringValue ?? ""
            return ["host": .string(host), "service": address["port"] ?? "",
                    "family": .string(host.contains(":") ? "ipv6" : "ipv4"), "websocket": false]
        }
    }
}
