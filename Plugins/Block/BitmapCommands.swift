import QMPPluginKit
import QMPWire

/// block-dirty-bitmap-add/-remove/-clear/-enable/-disable/-merge with
/// QEMU 7.2's checks and texts.
extension BlockPlugin {
    static func registerBitmaps(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command("block-dirty-bitmap-add") { this, args in this.addBitmap(args) }
        plugin.command("block-dirty-bitmap-remove") { this, args in
            this.withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps.remove(at: i) }
        }
        plugin.command("block-dirty-bitmap-clear") { this, args in
            this.withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].dirty = RangeSet() }
        }
        plugin.command("block-dirty-bitmap-enable") { this, args in
            this.withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].recording = true }
        }
        plugin.command("block-dirty-bitmap-disable") { this, args in
            this.withBitmap(args, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].recording = false }
        }
        plugin.command("block-dirty-bitmap-merge") { this, args in this.mergeBitmaps(args) }
    }

    func addBitmap(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        let name = args["name"]?.stringValue ?? ""
        return graph.lookup(args["node"]?.stringValue ?? "").flatMap { node in
            guard !name.isEmpty else { return .failure(.generic("Bitmap name cannot be empty")) }
            guard let n = graph.node(node) else { return .failure(.generic("Node '\(node)' not found")) }
            var granularity = DirtyBitmap.defaultGranularity(for: n)
            if let g = args["granularity"]?.int64Value {
                guard g >= 512, g & (g - 1) == 0 else { return .failure(.generic("Granularity must be power of 2 and at least 512")) }
                granularity = g
            }
            let persistent = args["persistent"]?.boolValue ?? false
            if n.bitmaps.contains(where: { $0.name == name }) { return .failure(.generic("Bitmap already exists: \(name)")) }
            if persistent && n.driver != "qcow2" {
                return .failure(.generic("Can't store persistent bitmaps to \(graph.backends.first { $0.root == node }?.name ?? node)"))
            }
            graph[node: node]?.bitmaps.append(DirtyBitmap(name: name, granularity: granularity, persistent: persistent,
                                                          recording: !(args["disabled"]?.boolValue ?? false)))
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

    func withBitmap(_ args: JSONObject, modifying: Bool, _ body: (inout BlockGraph, String, Int) -> Void) -> Result<JSONValue, QMPError> {
        let name = args["name"]?.stringValue ?? ""
        return findBitmap(node: args["node"]?.stringValue ?? "", name: name).flatMap { node, i in
            if modifying, graph.node(node)?.bitmaps[i].busy == true {
                return .failure(.generic("Bitmap '\(name)' is currently in use by another operation and cannot be used"))
            }
            body(&graph, node, i)
            return .success([:])
        }
    }

    func mergeBitmaps(_ args: JSONObject) -> Result<JSONValue, QMPError> {
        let target = args["target"]?.stringValue ?? ""
        return findBitmap(node: args["node"]?.stringValue ?? "", name: target).flatMap { node, t in
            if graph.node(node)?.bitmaps[t].busy == true {
                return .failure(.generic("Bitmap '\(target)' is currently in use by another operation and cannot be used"))
            }
            guard var merged = graph.node(node)?.bitmaps[t] else { return .failure(.generic("Bitmap '\(target)' not found")) }
            for source in args["bitmaps"]?.arrayValue ?? [] {
                let (sourceNode, sourceName) = source.stringValue.map { (node, $0) }
                    ?? (source["node"]?.stringValue ?? "", source["name"]?.stringValue ?? "")
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
