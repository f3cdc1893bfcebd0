import QMPPluginKit
import QMPWire

/// `blockdev-reopen` (QEMU 7.2's block.c `bdrv_reopen_multiple`): changes
/// the options of existing nodes, all of them or none.
///
/// Each entry is a node's full BlockdevOptions; what it leaves out goes
/// back to its default (`read-only` to false), as QEMU reopens without the
/// old options. What can change, as in QEMU: `read-only`, the `file` child
/// (to another existing node) and the `backing` child (another node or
/// null). The driver and a protocol node's filename cannot; a child given
/// inline would change the child's own options, which QEMU refuses too.
/// After the changes, every node must allow what its users need: a node
/// that a writable device (or a writable parent with such a device) uses
/// must be read-write. This is how libvirt makes a backing image writable
/// for block-commit and for merging persistent dirty bitmaps in
/// incremental backups, and read-only again afterwards; the guest's writes
/// (the `write` guest action) and bitmap changes follow the new mode.
extension BlockPlugin {
    static func registerReopen(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.BlockdevReopenCommand.self) { this, args in this.blockdevReopen(args.options) }
    }

    func blockdevReopen(_ list: [QAPI.BlockdevOptions]) -> Result<JSONValue, QMPError> {
        // QEMU queues every node first (these checks), then reopens them.
        var queue: [(name: String, options: JSONObject)] = []
        for entry in list {
            let options = entry.qapiObject
            guard let name = entry.nodeName else { return .failure(.generic("node-name not specified")) }
            guard graph.node(name) != nil else { return .failure(.generic("Failed to find node with node-name='\(name)'")) }
            queue.append((name, options))
        }
        var scratch = graph
        for (name, options) in queue {
            if let error = reopen(name, options, in: &scratch) { return .failure(error) }
        }
        if let error = Self.checkWriters(in: scratch, reopened: Set(queue.map(\.name))) { return .failure(error) }
        graph = scratch
        return .success([:])
    }

    /// One node's new options (`bdrv_reopen_prepare`).
    private func reopen(_ name: String, _ options: JSONObject, in graph: inout BlockGraph) -> QMPError? {
        guard let node = graph.node(name) else { return .generic("Failed to find node with node-name='\(name)'") }
        if options["driver"]?.stringValue != node.driver { return .generic("Cannot change the option 'driver'") }
        if !node.isFormat {
            if let filename = options["filename"]?.stringValue, filename != node.filename {
                return .generic("Cannot change the option 'filename'")
            }
        } else {
            switch options["file"] {
            case .string(let child)?:
                if let error = Self.checkChild(child, of: name, role: "file", in: graph) { return error }
                graph[node: name]?.file = child
            case .object?:
                return .generic("Cannot change the option 'file.driver'")
            default:
                return .generic("Parameter 'file' is missing")
            }
            if node.supportsBacking {
                switch options["backing"] {
                case nil:
                    if node.backing != nil { return .generic("backing is missing for '\(name)'") }
                case .null?:
                    graph[node: name]?.backing = nil
                    graph[node: name]?.backingFilename = nil
                case .string(let child)?:
                    if let error = Self.checkChild(child, of: name, role: "backing", in: graph) { return error }
                    let filename = graph.node(child)?.filename
                    graph[node: name]?.backing = child
                    graph[node: name]?.backingFilename = filename
                default:
                    return .generic("Cannot change the option 'backing.driver'")
                }
            }
        }
        graph[node: name]?.readOnly = options["read-only"]?.boolValue ?? false
        return nil
    }

    /// A child named by a reference must exist and must not be the parent
    /// or above it.
    private static func checkChild(_ child: String, of parent: String, role: String, in graph: BlockGraph) -> QMPError? {
        guard graph.node(child) != nil else { return .generic("Cannot find device='' nor node-name='\(child)'") }
        if child == parent || descendants(of: child, in: graph).contains(parent) {
            return .generic("Making '\(child)' a \(role) child of '\(parent)' would create a cycle")
        }
        return nil
    }

    private static func descendants(of name: String, in graph: BlockGraph) -> Set<String> {
        var seen: Set<String> = []
        var pending = [name]
        while let next = pending.popLast() {
            guard let node = graph.node(next) else { continue }
            for child in [node.file, node.backing].compactMap({ $0 }) where seen.insert(child).inserted {
                pending.append(child)
            }
        }
        return seen
    }

    /// The nodes something writes through: a writable device's root and,
    /// down from it, each file child (a backing child is only read).
    static func writtenNodes(in graph: BlockGraph) -> Set<String> {
        var written: Set<String> = []
        var pending = graph.backends.filter { $0.device != nil && !$0.readOnly }.compactMap(\.root)
        while let name = pending.popLast() {
            guard written.insert(name).inserted, let node = graph.node(name) else { continue }
            if let file = node.file { pending.append(file) }
        }
        return written
    }

    /// QEMU's permission check after a reopen: a read-only node cannot
    /// have writers.
    private static func checkWriters(in graph: BlockGraph, reopened: Set<String>) -> QMPError? {
        for name in writtenNodes(in: graph).sorted() {
            guard let node = graph.node(name), node.readOnly else { continue }
            return reopened.contains(name)
                ? .generic("Read-only block node '\(name)' cannot support read-write users")
                : .generic("Block node is read-only")
        }
        return nil
    }
}
