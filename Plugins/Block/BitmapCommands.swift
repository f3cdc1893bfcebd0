import QMPPluginKit
import QMPWire

/// block-dirty-bitmap-add/-remove/-clear/-enable/-disable/-merge with
/// QEMU 7.2's checks and texts.
extension BlockPlugin {
    static func registerBitmaps(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command("block-dirty-bitmap-add", arguments: QAPI.BlockDirtyBitmapAdd.self) { this, args in this.addBitmap(args) }
        plugin.command("block-dirty-bitmap-remove", arguments: QAPI.BlockDirtyBitmap.self) { this, args in this.removeBitmap(args) }
        plugin.command("block-dirty-bitmap-clear", arguments: QAPI.BlockDirtyBitmap.self) { this, args in this.clearBitmap(args) }
        plugin.command("block-dirty-bitmap-enable", arguments: QAPI.BlockDirtyBitmap.self) { this, args in this.enableBitmap(args, true) }
        plugin.command("block-dirty-bitmap-disable", arguments: QAPI.BlockDirtyBitmap.self) { this, args in this.enableBitmap(args, false) }
        plugin.command("block-dirty-bitmap-merge", arguments: QAPI.BlockDirtyBitmapMerge.self) { this, args in this.mergeBitmaps(args) }
    }

    func removeBitmap(_ args: QAPI.BlockDirtyBitmap) -> Result<JSONValue, QMPError> {
        withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps.remove(at: i) }
    }

    func clearBitmap(_ args: QAPI.BlockDirtyBitmap) -> Result<JSONValue, QMPError> {
        withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].dirty = RangeSet() }
    }

    func enableBitmap(_ args: QAPI.BlockDirtyBitmap, _ recording: Bool) -> Result<JSONValue, QMPError> {
        withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].recording = recording }
    }

    func addBitmap(_ args: QAPI.BlockDirtyBitmapAdd) -> Result<JSONValue, QMPError> {
        let name = args.name
        return graph.lookup(args.node).flatMap { node in
            guard !name.isEmpty else { return .failure(.generic("Bitmap name cannot be empty")) }
            guard let n = graph.node(node) else { return .failure(.generic("Node '\(node)' not found")) }
            var granularity = DirtyBitmap.defaultGranularity(for: n)
            if let g = args.granularity.map(Int64.init(clamping:)) {
                guard g >= 512, g & (g - 1) == 0 else { return .failure(.generic("Granularity must be power of 2 and at least 512")) }
                granularity = g
            }
            let persistent = args.persistent ?? false
            if n.bitmaps.contains(where: { $0.name == name }) { return .failure(.generic("Bitmap already exists: \(name)")) }
            guard graph.nodes.reduce(0, { $0 + $1.bitmaps.count }) < BlockLimits.bitmapsPerVM else {
                return .failure(BlockLimits.refusal(BlockLimits.bitmapsPerVM, "dirty bitmaps"))
            }
            if persistent && n.driver != "qcow2" {
                return .failure(.generic("Can't store persistent bitmaps to \(graph.backends.first { $0.root == node }?.name ?? node)"))
            }
            graph[node: node]?.bitmaps.append(DirtyBitmap(name: name, granularity: granularity, persistent: persistent,
                                                          recording: !(args.disabled ?? false)))
            return .success([:])
        }
    }

    /// block_dirty_bitmap_lookup, then the busy check every change makes.
    func findBitmap(node: String, name: String) -> Result<(String, Int), QMPError> {
        graph.lookup(node).mapError { _ in QMPError.generic("Node '\(node)' not found") }.flatMap { n in
            guard let i = graph.node(n)?.bitmaps.firstIndex(where: { $0.name == name }) else {
                return .failure(.generic("Dirty bitmap '\(name)' not found"))
            }
            return .success((n, i))
        }
    }

    func withBitmap(_ args: QAPI.BlockDirtyBitmap, modifying: Bool, _ body: (inout BlockGraph, String, Int) -> Void) -> Result<JSONValue, QMPError> {
        let name = args.name
        return findBitmap(node: args.node, name: name).flatMap { node, i in
            if modifying, graph.node(node)?.bitmaps[i].busy == true {
                return .failure(.generic("Bitmap '\(name)' is currently in use by another operation and cannot be used"))
            }
            body(&graph, node, i)
            return .success([:])
        }
    }

    func mergeBitmaps(_ args: QAPI.BlockDirtyBitmapMerge) -> Result<JSONValue, QMPError> {
        let target = args.target
        return findBitmap(node: args.node, name: target).flatMap { node, t in
            if graph.node(node)?.bitmaps[t].busy == true {
                return .failure(.generic("Bitmap '\(target)' is currently in use by another operation and cannot be used"))
            }
            guard var merged = graph.node(node)?.bitmaps[t] else { return .failure(.generic("Bitmap '\(target)' not found")) }
            for source in args.bitmaps {
                let (sourceNode, sourceName): (String, String)
                switch source {
                case .string(let name): (sourceNode, sourceName) = (node, name)
                case .v1(let bitmap): (sourceNode, sourceName) = (bitmap.node, bitmap.name)
                }
                switch findBitmap(node: sourceNode, name: sourceName) {
                case .success(let (n, i)):
                    guard let bitmap = graph.node(n)?.bitmaps[i] else { continue }
                    merged.merge(bitmap)
                case .failure(let error):
                    return .failure(error)
                }
            }
            graph[node: node]?.bitmaps[t].dirty = merged.dirty
            return .success([:])
        }
    }
}
