import QMPPluginKit
import QMPWire

/// The block layer's remaining 7.2 commands: `block-latency-histogram-set`,
/// `x-blockdev-set-iothread`, `x-debug-block-dirty-bitmap-sha256`,
/// `x-debug-query-block-graph`, `query-pr-managers` (no pr-manager objects
/// are simulated, so the list is empty).
extension BlockPlugin {
    static func registerDebugCommands(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.BlockLatencyHistogramSetCommand.self, throwing: { this, args throws(QMPError) in
            _ = try this.graph.backend(device: nil, id: args.id).get()
            return .object([:])
        })
        plugin.command(QAPI.XBlockdevSetIothreadCommand.self) { this, args in
            let name = args.nodeName
            guard this.graph.node(name) != nil else {
                return .failure(.generic("Failed to find node with node-name='\(name)'"))
            }
            return .success(.object([:]))
        }
        plugin.command(QAPI.XDebugBlockDirtyBitmapSha256Command.self) { this, args in
            let node = args.node, name = args.name
            guard let n = this.graph.node(node) else { return .failure(.generic("Node '\(node)' not found")) }
            guard n.bitmaps.contains(where: { $0.name == name }) else {
                return .failure(.generic("Dirty bitmap '\(name)' not found"))
            }
            // The simulated guest never writes: a bitmap's bits are all clear.
            return .success(["sha256": "0000000000000000000000000000000000000000000000000000000000000000"])
        }
        plugin.command(QAPI.XDebugQueryBlockGraphCommand.self) { this, _ in .success(this.graph.debugGraph) }
        plugin.command(QAPI.QueryPrManagersCommand.self) { _, _ in .success([]) }
    }
}

extension BlockGraph {
    /// XDbgBlockGraph: a node per backend and per block node, an edge per
    /// backend root and per child link (backing, file), numbered in order.
    var debugGraph: JSONValue {
        var ids: [String: Int64] = [:]
        var nodes: [JSONValue] = []
        var edges: [JSONValue] = []
        func id(_ key: String) -> Int64 {
            if let existing = ids[key] { return existing }
            let next = Int64(ids.count + 1)
            ids[key] = next
            return next
        }
        for backend in backends {
            nodes.append(["id": .int(id("blk:" + backend.name)), "type": "block-backend", "name": .string(backend.name)])
        }
        for node in self.nodes {
            nodes.append(["id": .int(id("node:" + node.name)), "type": "block-driver", "name": .string(node.name)])
        }
        for backend in backends {
            guard let root = backend.root else { continue }
            edges.append(["parent": .int(id("blk:" + backend.name)), "child": .int(id("node:" + root)), "name": "root",
                          "perm": ["consistent-read", "write", "resize"], "shared-perm": ["write-unchanged", "resize"]])
        }
        for node in self.nodes {
            for child in [("backing", node.backing), ("file", node.file)] {
                guard let target = child.1 else { continue }
                edges.append(["parent": .int(id("node:" + node.name)), "child": .int(id("node:" + target)), "name": .string(child.0),
                              "perm": ["consistent-read"], "shared-perm": ["consistent-read", "write-unchanged", "resize"]])
            }
        }
        return ["nodes": .array(nodes), "edges": .array(edges)]
    }
}
