import QMPPluginKit
import QMPWire

/// The NBD server and block exports (QEMU's `block-export.json`):
/// `nbd-server-start`/`-stop`, `block-export-add`/`-del`,
/// `query-block-exports`, the deprecated `nbd-server-add`/`-remove`, and
/// BLOCK_EXPORT_DELETED. They live in the block plugin because an export
/// is of a node of the VM's block graph (QEMU looks it up there).
///
/// The server listens on its unix socket and serves the exports to NBD
/// clients (NBDServer). Only the `nbd` export type is served; the others
/// need a vhost-user, FUSE or VDUSE host side.
struct BlockExports {
    struct Export {
        let id: String
        let type: String
        let node: String
        /// The NBD export name (default: the node name).
        let name: String
        let writable: Bool
    }

    /// The running `nbd-server-start` server.
    var server: NBDServer?
    /// An `nbd-server-start` is binding its socket off the loop.
    var starting = false
    var list: [Export] = []

    func find(_ id: String) -> Export? { list.first { $0.id == id } }
}

extension BlockPlugin {
    static func registerExports(_ plugin: PluginRegistry<BlockPlugin>) {
        // The socket is bound off the loop (NBDServer.start): meanwhile the
        // server counts as running, as QEMU's bind does not yield.
        plugin.asyncCommand(QAPI.NbdServerStartCommand.self) { this, args, reply in
            guard this.exports.server == nil, !this.exports.starting else { return reply.failure(.generic("NBD server already running")) }
            this.exports.starting = true
            NBDServer.start(
                vm: this.vm, address: args.addr.qapiValue, maxConnections: args.maxConnections ?? 0,
                lookup: { [weak this] name in this?.nbdExport(named: name) },
                names: { [weak this] in this?.exports.list.filter { $0.type == "nbd" }.map(\.name) ?? [] }) { [weak this] started in
                guard let this else { return }
                this.exports.starting = false
                switch started {
                case .failure(let error): reply.failure(error)
                case .success(let server):
                    this.exports.server = server
                    reply.success(.object([:]))
                }
            }
        }
        // Answers once the socket file is removed, off the loop.
        plugin.asyncCommand(QAPI.NbdServerStopCommand.self) { this, _, reply in
            guard let server = this.exports.server else { return reply.failure(.generic("NBD server not running")) }
            // nbd_server_free: every NBD export goes first.
            for export in this.exports.list.reversed() where export.type == "nbd" { this.deleteExport(export.id) }
            this.exports.server = nil
            server.stop { reply.success(.object([:])) }
        }
        plugin.command(QAPI.BlockExportAddCommand.self) { this, args in
            var name: String?
            if case .nbd(let nbd) = args.variant { name = nbd.name }
            return this.addExport(id: args.id, type: args.type.rawValue, node: args.nodeName,
                                  device: nil, name: name ?? args.nodeName, writable: args.writable ?? false)
        }
        plugin.command(QAPI.NbdServerAddCommand.self) { this, args in
            let name = args.name ?? args.device
            return this.addExport(id: name, type: "nbd", node: args.device, device: args.device, name: name,
                                  writable: args.writable ?? false)
        }
        plugin.command(QAPI.BlockExportDelCommand.self) { this, args in this.removeExport(args.id) }
        plugin.command(QAPI.NbdServerRemoveCommand.self) { this, args in this.removeExport(args.name) }
        // Newest first: block_exports is a QLIST with inserts at the head.
        plugin.command(QAPI.QueryBlockExportsCommand.self) { this, _ in
            .success(.array(this.exports.list.reversed().map {
                ["type": .string($0.type), "id": .string($0.id), "node-name": .string($0.node), "shutting-down": false]
            }))
        }
    }

    /// blk_exp_add: the id, the node, then the driver's own checks.
    func addExport(id: String, type: String, node: String?, device: String?, name: String,
                   writable: Bool) -> Result<JSONValue, QMPError> {
        if exports.find(id) != nil { return .failure(.generic("Block export id '\(id)' is already in use")) }
        guard type == "nbd" else { return .failure(.generic("No driver found for the requested export type")) }
        let nodeName: String
        switch graph.lookup(device: device, node: node) {
        case .failure(let error): return .failure(error)
        case .success(let found): nodeName = found
        }
        guard exports.server != nil else { return .failure(.generic("NBD server not running")) }
        guard exports.list.count < BlockLimits.exportsPerVM else { return .failure(BlockLimits.refusal(BlockLimits.exportsPerVM, "block exports")) }
        exports.list.append(BlockExports.Export(id: id, type: type, node: nodeName, name: name, writable: writable))
        return .success(.object([:]))
    }

    func removeExport(_ id: String) -> Result<JSONValue, QMPError> {
        guard exports.find(id) != nil else { return .failure(.generic("Export '\(id)' is not found")) }
        deleteExport(id)
        return .success(.object([:]))
    }

    /// What an NBD client sees of export `name`: its node's size, and whether it takes writes.
    func nbdExport(named name: String) -> (size: Int64, writable: Bool)? {
        guard let export = exports.list.first(where: { $0.type == "nbd" && $0.name == name }) else { return nil }
        return (graph.node(export.node)?.virtualSize ?? 0, export.writable)
    }

    func deleteExport(_ id: String) {
        exports.list.removeAll { $0.id == id }
        vm.emit("BLOCK_EXPORT_DELETED", ["id": .string(id)])
    }
}
