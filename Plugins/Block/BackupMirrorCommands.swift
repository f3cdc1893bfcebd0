import QMPPluginKit
import QMPWire

/// drive-backup/blockdev-backup and drive-mirror/blockdev-mirror.
extension BlockPlugin {
    /// Where a backup or mirror writes: a node (blockdev-*), or an image
    /// file (drive-*), new unless mode=existing.
    enum JobTarget {
        case node(String)
        case image(String, format: String?, nodeName: String?, mode: QAPI.NewImageMode?)

        var isFile: Bool {
            if case .image = self { return true }
            return false
        }
    }

    /// The target node: a drive-* job's image is opened as a format node
    /// over a file node in `scratch`.
    func openTarget(_ target: JobTarget, source: String, in scratch: inout BlockGraph) -> Result<String, QMPError> {
        switch target {
        case .node(let name):
            return graph.lookup(name)
        case .image(let path, let format, let nodeName, let mode):
            let format = format ?? graph.node(source)?.driver ?? "raw"
            let size = graph.node(source)?.virtualSize ?? 0
            // The image is created only when its nodes can be made.
            if let refusal = scratch.refusalOfNewNodes(2) { return .failure(refusal) }
            if mode != .existing, case .failure(let refusal) = createImage(path, format: format, virtualSize: size) {
                return .failure(refusal)
            }
            return openImage(path, format: format, nodeName: nodeName, readOnly: false, in: &scratch)
        }
    }

    func startBackup(_ args: QAPI.DriveBackup) -> Result<JSONValue, QMPError> {
        startBackup(device: args.device, sync: args.sync, bitmap: args.bitmap, bitmapMode: args.bitmapMode,
                    target: .image(args.target, format: args.format, nodeName: nil, mode: args.mode),
                    options: JobStartOptions(jobID: args.jobId, speed: args.speed, autoFinalize: args.autoFinalize,
                                             autoDismiss: args.autoDismiss, onError: args.onSourceError?.rawValue))
    }

    func startBackup(_ args: QAPI.BlockdevBackup) -> Result<JSONValue, QMPError> {
        startBackup(device: args.device, sync: args.sync, bitmap: args.bitmap, bitmapMode: args.bitmapMode, target: .node(args.target),
                    options: JobStartOptions(jobID: args.jobId, speed: args.speed, autoFinalize: args.autoFinalize,
                                             autoDismiss: args.autoDismiss, onError: args.onSourceError?.rawValue))
    }

    /// Sum of data in the chain from `node` down (or only `node` for sync=top).
    func allocated(_ node: String, wholeChain: Bool) -> Int64 {
        let chain = graph.backingChain(node)
        return (wholeChain ? chain : Array(chain.prefix(1))).map(\.allocated).clampedSum
    }

    func startBackup(device: String, sync mode: QAPI.MirrorSyncMode, bitmap: String?, bitmapMode: QAPI.BitmapSyncMode?,
                     target jobTarget: JobTarget, options: JobStartOptions) -> Result<JSONValue, QMPError> {
        let sync = mode.rawValue
        return graph.lookup(device).flatMap { source in
            if let job = jobUsing(source) { return .failure(job.busyError(node: device)) }
            var bitmapIndex: Int?
            if sync == "incremental" || sync == "bitmap" {
                guard let name = bitmap else {
                    return .failure(.generic("must provide a valid bitmap name for '\(sync)' sync mode"))
                }
                guard let i = graph.node(source)?.bitmaps.firstIndex(where: { $0.name == name }) else {
                    return .failure(.generic("Bitmap '\(name)' could not be found"))
                }
                if graph.node(source)?.bitmaps[i].busy == true {
                    return .failure(.generic("Bitmap '\(name)' is currently in use by another operation and cannot be used"))
                }
                bitmapIndex = i
            } else if let name = bitmap, graph.node(source)?.bitmaps.contains(where: { $0.name == name }) != true {
                return .failure(.generic("Bitmap '\(name)' could not be found"))
            }
            var scratch = graph
            let target: String
            let targetResult = openTarget(jobTarget, source: source, in: &scratch)
            switch targetResult {
            case .success(let t): target = t
            case .failure(let error): return .failure(error)
            }
            return speed(options.speed).flatMap { speed in
                jobID(options.jobID, device: device).map { id in
                    graph = scratch
                    let node = graph.node(source)
                    let len: Int64
                    switch sync {
                    case "top": len = node?.allocated ?? 0
                    case "incremental", "bitmap": len = bitmapIndex.flatMap { node?.bitmaps[$0].count(virtualSize: node?.virtualSize ?? 0) } ?? 0
                    default: len = node?.virtualSize ?? 0
                    }
                    var held: Set<String> = [source, target]
                    if let i = bitmapIndex, let name = node?.bitmaps[i].name {
                        graph[node: source]?.bitmaps[i].busy = true
                        held.insert("bitmap:\(source)/\(name)")
                    }
                    let job = BlockJob(id: id, kind: .backup, len: len, speed: speed, options: options, waitsForCompletion: false, nodes: held)
                    let bitmapName = bitmapIndex.flatMap { node?.bitmaps[$0].name }
                    let clearOnSuccess = bitmapMode.map { $0 != .never } ?? true
                    let dropTarget = jobTarget.isFile
                    job.finish = { graph, _ in
                        if let bitmapName, clearOnSuccess, let b = graph.node(source)?.bitmaps.firstIndex(where: { $0.name == bitmapName }) {
                            graph[node: source]?.bitmaps[b].dirty = RangeSet()
                        }
                        graph[node: target]?.allocated = len
                        if dropTarget { graph.deleteNodeIfOrphan(target) }
                    }
                    job.abort = { graph in if dropTarget { graph.deleteNodeIfOrphan(target) } }
                    start(job)
                    return .object([:])
                }
            }
        }
    }

    func startMirror(_ args: QAPI.DriveMirrorCommand) -> Result<JSONValue, QMPError> {
        startMirror(device: args.device, sync: args.sync, granularity: args.granularity,
                    target: .image(args.target, format: args.format, nodeName: args.nodeName, mode: args.mode),
                    options: JobStartOptions(jobID: args.jobId, speed: args.speed, autoFinalize: args.autoFinalize,
                                             autoDismiss: args.autoDismiss, onError: args.onSourceError?.rawValue))
    }

    func startMirror(_ args: QAPI.BlockdevMirrorCommand) -> Result<JSONValue, QMPError> {
        startMirror(device: args.device, sync: args.sync, granularity: args.granularity, target: .node(args.target),
                    options: JobStartOptions(jobID: args.jobId, speed: args.speed, autoFinalize: args.autoFinalize,
                                             autoDismiss: args.autoDismiss, onError: args.onSourceError?.rawValue))
    }

    func startMirror(device: String, sync mode: QAPI.MirrorSyncMode, granularity: Int64?, target jobTarget: JobTarget,
                     options: JobStartOptions) -> Result<JSONValue, QMPError> {
        let sync = mode.rawValue
        return rootNode(device).flatMap { source in
            if let granularity,
               granularity < 512 || granularity > 64 << 20 || granularity & (granularity - 1) != 0 {
                return .failure(.generic("Parameter 'granularity' expects a value in range [512B, 64MB]"))
            }
            var scratch = graph
            let target: String
            let targetResult = openTarget(jobTarget, source: source, in: &scratch)
            switch targetResult {
            case .success(let t): target = t
            case .failure(let error): return .failure(error)
            }
            if !jobTarget.isFile, graph.backendIndex(rootedAt: target) != nil {
                return .failure(.generic("Node '\(target)' is already in use"))
            }
            return speed(options.speed).flatMap { speed in
                jobID(options.jobID, device: device).map { id in
                    graph = scratch
                    let len = sync == "none" ? 0 : allocated(source, wholeChain: sync == "full")
                    let job = BlockJob(id: id, kind: .mirror, len: len, speed: speed, options: options, waitsForCompletion: true, nodes: [source, target])
                    let keepBacking = sync != "full"
                    let dropTarget = jobTarget.isFile
                    job.finish = { graph, pivot in
                        guard pivot else {
                            if dropTarget { graph.deleteNodeIfOrphan(target) }
                            return
                        }
                        let old = graph.node(source)
                        graph[node: target]?.allocated = len
                        if keepBacking, let backing = old?.backing {
                            graph[node: target]?.backing = backing
                            let newValue0 = graph.node(backing)?.filename
                            graph[node: target]?.backingFilename = newValue0
                        }
                        if let b = graph.backendIndex(rootedAt: source) { graph.backends[b].root = target }
                        graph.deleteNodeIfOrphan(source)
                    }
                    job.abort = { graph in if dropTarget { graph.deleteNodeIfOrphan(target) } }
                    start(job)
                    return .object([:])
                }
            }
        }
    }
}
