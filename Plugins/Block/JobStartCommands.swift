import QMPPluginKit
import QMPWire

/// block-stream, block-commit, drive-/blockdev-backup and
/// drive-/blockdev-mirror: the checks QEMU makes before it creates the
/// job, the job's length, and the graph change when it completes.
extension BlockPlugin {
    static func registerJobStarts(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.BlockStreamCommand.self) { this, args in this.startStream(args) }
        plugin.command(QAPI.BlockCommitCommand.self) { this, args in this.startCommit(args) }
        plugin.command("drive-backup", arguments: QAPI.DriveBackup.self) { this, args in this.startBackup(args) }
        plugin.command("blockdev-backup", arguments: QAPI.BlockdevBackup.self) { this, args in this.startBackup(args) }
        plugin.command(QAPI.DriveMirrorCommand.self) { this, args in this.startMirror(args) }
        plugin.command(QAPI.BlockdevMirrorCommand.self) { this, args in this.startMirror(args) }
    }

    /// qmp_get_root_bs: a device's root, or a node no other node holds.
    /// A job's filter sits on top of its device, so there is no root then.
    func rootNode(_ name: String) -> Result<String, QMPError> {
        graph.lookup(name).flatMap { node in
            if !graph.nodes.filter({ $0.file == node || $0.backing == node }).isEmpty || jobUsing(node) != nil {
                return .failure(.generic("Need a root block node"))
            }
            return .success(node)
        }
    }

    func speed(_ given: Int64?) -> Result<Int64, QMPError> {
        let speed = given ?? 0
        return speed < 0 ? .failure(.generic("Parameter 'speed' expects a non-negative value")) : .success(speed)
    }

    func startStream(_ args: QAPI.BlockStreamCommand) -> Result<JSONValue, QMPError> {
        let device = args.device
        let options = JobStartOptions(jobID: args.jobId, speed: args.speed, autoFinalize: args.autoFinalize,
                                      autoDismiss: args.autoDismiss, onError: args.onError?.rawValue)
        return graph.lookup(device).flatMap { top in
            if let job = jobUsing(top) { return .failure(job.busyError(node: device)) }
            if args.base != nil && args.baseNode != nil {
                return .failure(.generic("'base' and 'base-node' cannot be specified at the same time"))
            }
            let chain = graph.backingChain(top)
            var base: String?
            if let baseNode = args.baseNode {
                switch graph.lookup(device: nil, node: baseNode) {
                case .success(let b): base = b
                case .failure(let error): return .failure(error)
                }
                guard chain.dropFirst().contains(where: { $0.name == baseNode }) else {
                    return .failure(.generic("Node '\(baseNode)' is not a backing image of '\(device)'"))
                }
            } else if let baseFile = args.base {
                guard let found = chain.dropFirst().first(where: { $0.filename == baseFile }) else { return .failure(.generic("Can't find '\(baseFile)' in the backing chain")) }
                base = found.name
            }
            let intermediates = chain.dropFirst().prefix { $0.name != base }.map(\.name)
            return speed(options.speed).flatMap { speed in
                jobID(options.jobID, device: device).map { id in
                    let size = graph.node(top)?.virtualSize ?? 0
                    let job = BlockJob(id: id, kind: .stream, len: size, speed: speed, options: options, waitsForCompletion: false,
                                       nodes: Set([top] + intermediates))
                    let backingFile = args.backingFile
                    job.finish = { graph, _ in
                        let copied = intermediates.compactMap { graph.node($0)?.allocated }.clampedSum
                        graph[node: top]?.backing = base
                        let newValue6 = base.flatMap { backingFile ?? graph.node($0)?.filename }
                        graph[node: top]?.backingFilename = newValue6
                        let newValue7 = min(size, (graph.node(top)?.allocated ?? 0).clampedAdding(copied))
                        graph[node: top]?.allocated = newValue7
                        for n in intermediates { graph.deleteNodeIfOrphan(n) }
                    }
                    start(job)
                    return .object([:])
                }
            }
        }
    }

    func startCommit(_ args: QAPI.BlockCommitCommand) -> Result<JSONValue, QMPError> {
        let device = args.device
        let options = JobStartOptions(jobID: args.jobId, speed: args.speed, autoFinalize: args.autoFinalize,
                                      autoDismiss: args.autoDismiss, onError: args.onError?.rawValue)
        // qmp_block_commit: an unknown device or node is DeviceNotFound.
        if case .failure = graph.lookup(device) { return .failure(.deviceNotFound(device)) }
        return rootNode(device).flatMap { root in
            let chain = graph.backingChain(root)
            var top = root
            if let topNode = args.topNode {
                switch graph.lookup(device: nil, node: topNode) {
                case .success(let t): top = t
                case .failure(let error): return .failure(error)
                }
            } else if let topFile = args.top {
                guard let found = chain.first(where: { $0.filename == topFile }) else { return .failure(.generic("Top image file \(topFile) not found")) }
                top = found.name
            }
            guard let topIndex = chain.firstIndex(where: { $0.name == top }) else {
                return .failure(.generic("Top image file \(args.topNode ?? top) not found"))
            }
            var base = chain.last?.name ?? root
            if let baseNode = args.baseNode {
                switch graph.lookup(device: nil, node: baseNode) {
                case .success(let b): base = b
                case .failure(let error): return .failure(error)
                }
            } else if let baseFile = args.base {
                guard let found = chain.first(where: { $0.filename == baseFile }) else { return .failure(.generic("Can't find '\(baseFile)' in the backing chain")) }
                base = found.name
            }
            if base == top { return .failure(.generic("cannot commit an image into itself")) }
            guard let baseIndex = chain.firstIndex(where: { $0.name == base }), baseIndex > topIndex else {
                return .failure(.generic("'\(base)' is not in the backing chain of '\(top)'"))
            }
            let merged = chain[topIndex..<baseIndex].map(\.name)
            let active = top == root
            let overlay = topIndex > 0 ? chain[topIndex - 1].name : nil
            return speed(options.speed).flatMap { speed in
                jobID(options.jobID, device: device).map { id in
                    let len = chain[topIndex..<baseIndex].map(\.allocated).clampedSum
                    let job = BlockJob(id: id, kind: .commit, len: len, speed: speed, options: options, waitsForCompletion: active,
                                       nodes: Set(chain[topIndex...baseIndex].map(\.name)))
                    let backingFile = args.backingFile
                    job.finish = { graph, pivot in
                        guard pivot else { return }
                        let newValue8 = min(graph.node(base)?.virtualSize ?? 0, (graph.node(base)?.allocated ?? 0).clampedAdding(len))
                        graph[node: base]?.allocated = newValue8
                        if let overlay {
                            graph[node: overlay]?.backing = base
                            let newValue9 = backingFile ?? graph.node(base)?.filename
                            graph[node: overlay]?.backingFilename = newValue9
                        }
                        if active, let b = graph.backendIndex(rootedAt: root) {
                            graph.backends[b].root = base
                            let newValue10 = graph.node(root)?.readOnly ?? false
                            graph[node: base]?.readOnly = newValue10
                        }
                        for n in merged { graph.deleteNodeIfOrphan(n) }
                    }
                    start(job)
                    return .object([:])
                }
            }
        }
    }
}
