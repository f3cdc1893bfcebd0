import QMPPluginKit
import QMPWire

/// The NBD server and block exports (QEMU's `block-export.json`):
/// `nbd-server-start`/`-stop`, `block-export-add`/`-del`,
/// `query-block-exports`, the deprecated `nbd-server-add`/`-remove`, and
/// BLOCK_EXPORT_DELETED. They live in the block plugin because an export
/// is of a node of the VM's block graph (QEMU looks it up there).
///
/// The server's address and the exports are state the queries report; the
/// simulated server does not listen on the address (no NBD client reads a
/// simulated disk). Only the `nbd` export type is built in QEMU 7.2 as
/// Debian ships it with a server; the others have no driver here.
struct BlockExports {
    struct Export {
        let id: String
        let type: String
        let node: String
    }

    /// `nbd-server-start`'s address while the server runs.
    var serverAddress: JSONValue?
    var list: [Export] = []

    func find(_ id: String) -> Export? { list.first { $0.id == id } }
}

extension BlockPlugin {
    static func registerExports(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command("nbd-server-start") { this, args in
            guard this.exports.serverAddress == nil else { return .failure(.generic("NBD server already running")) }
            this.exports.serverAddress = args["addr"] ?? .null
            return .success(.object([:]))
        }
        plugin.command("nbd-server-stop") { this, _ in
            guard this.exports.serverAddress != nil else { return .failure(.generic("NBD server not running")) }
            // nbd_server_free: every NBD export goes first.
            for export in this.exports.list where export.type == "nbd" { this.deleteExport(export.id) }
            this.exports.serverAddress = nil
            return .success(.object([:]))
        }
        plugin.command("block-export-add") { this, args in
            this.addExport(id: args["id"]?.stringValue ?? "", type: args["type"]?.stringValue ?? "",
                           node: args["node-name"]?.stringValue, device: nil)
        }
        plugin.command("nbd-server-add") { this, args in
            let device = args["device"]?.stringValue ?? ""
            return this.addExport(id: args["name"]?.stringValue ?? device, type: "nbd", node: device, device: device)
        }
        plugin.command("block-export-del") { this, args in this.removeExport(args["id"]?.stringValue ?? "") }
        plugin.command("nbd-server-remove") { this, args in this.removeExport(args["name"]?.stringValue ?? "") }
        plugin.command("query-block-exports") { this, _ in
            .success(.array(this.exports.list.map {
                ["type": .string($0.type), "id": .string($0.id), "node-name": .string($0.node), "shutting-down": false]
            }))
        }
    }

    /// blk_exp_add: the id, the node, then the driver's own checks.
    func addExport(id: String, type: String, node: String?, device: String?) -> Result<JSONValue, QMPError> {
        if exports.find(id) != nil { return .failure(.generic("Block export id '\(id)' is already in use")) }
        guard type == "nbd" else { return .failure(.generic("No driver found for the requested export type")) }
        let nodeName: String
        switch graph.lookup(device: device, node: node) {
        case .failure(let error): return .failure(error)
        case .success(let found): nodeName = found
        }
        guard exports.serverAddress != nil else { return .failure(.generic("NBD server not running")) }
        exports.list.append(BlockExports.Export(id: id, type: type, node: nodeName))
        return .success(.object([:]))
    }

    func removeExport(_ id: String) -> Result<JSONValue, QMPError> {
        guard exports.find(id) != nil else { return .failure(.generic("Export '\(id)' is not found")) }
        deleteExport(id)
        return .success(.object([:]))
    }

    func deleteExport(_ id: String) {
        exports.list.removeAll { $0.id == id }
        vm.emit("BLOCK_EXPORT_DELETED", ["id": .string(id)])
    }
}
