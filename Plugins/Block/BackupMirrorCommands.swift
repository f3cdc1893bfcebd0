import QMPPluginKit
import QMPWire

/// drive-backup/blockdev-backup and drive-mirror/blockdev-mirror.
extension BlockPlugin {
    /// The target of a drive-* job: a new image (or an existing one with
    /// mode=existing) opened as a format node over a file node.
    func openTarget(_ args: JSONObject, source: String, in scratch: inout BlockGraph) -> Result<String, QMPError> {
        let target = args["target"]?.stringValue ?? ""
        let format = args["format"]?.stringValue ?? graph.node(source)?.driver ?? "raw"
        let size = graph.node(source)?.virtualSize ?? 0
        if args["mode"]?.stringValue != "existing" {
            createImage(target, format: format, virtualSize: size)
        }
        return openImage(target, format: format, nodeName: args["node-name"]?.stringValue, readOnly: false, in: &scratch)
    }

    /// Sum of data in the chain from `node` down (or only `node` for sync=top).
    func allocated(_ node: String, wholeChain: Bool) -> Int64 {
        let chain = graph.backingChain(node)
        return (wholeChain ? chain : Array(chain.prefix(1))).map(\.allocated).reduce(0, +)
    }

    func startBackup(_ args: JSONObject, targetIsFile: Bool) -> Result<JSONValue, QMPError> {
        let device = args["device"]?.stringValue ?? ""
        let sync = args["sync"]?.stringValue ?? "full"
        return graph.lookup(device).flatMap { source in
            if let job = jobUsing(source) { return .failure(job.busyError(node: device)) }
            var bitmapIndex: Int?
            if sync == "incremental" || sync == "bitmap" {
                guard let name = args["bitmap"]?.stringValue else {
                    return .failure(.generic("must provide a valid bitmap name for '\(sync)' sync mode"))
                }
                guard let i = graph.node(source)?.bitmaps.firstIndex(where: { $0.name == name }) else {
                    return .failure(.generic("Bitmap '\(name)' could not be found"))
                }
                if graph.node(source)?.bitmaps[i].busy == true {
                    return .failure(.generic("Bitmap '\(name)' is currently in use by another operation and cannot be used"))
                }
                bitmapIndex = i
            } else if let name = args["bitmap"]?.stringValue, graph.node(source)?.bitmaps.contains(where: { $0.name == name }) != true {
                return .failure(.generic("Bitmap '\(name)' could not be found"))
            }
            var scratch = graph
            let target: String
            let targetResult = targetIsFile ? openTarget(args, source: source, in: &scratch) : graph.lookup(args["target"]?.stringValue ?? "")
            switch targetResult {
            case .success(let t): target = t
            case .failure(let error): return .failure(error)
            }
            let options = JobStartOptions(args)
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
                    let clearOnSuccess = args["bitmap-mode"]?.stringValue.map { $0 != "never" } ?? true
                    let dropTarget = targetIsFile
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

    func startMirror(_ args: JSONObject, targetIsFile: Bool) -> Result<JSONValue, QMPError> {
        let device = args["device"]?.stringValue ?? ""
        let sync = args["sync"]?.stringValue ?? "full"
        return rootNode(device).flatMap { source in
            if let granularity = args["granularity"]?.int64Value,
               granularity < 512 || granularity > 64 << 20 || granularity & (granularity - 1) != 0 {
                return .failure(.generic("Parameter 'granularity' expects a value in range [512B, 64MB]"))
            }
            var scratch = graph
            let target: String
            let targetResult = targetIsFile ? openTarget(args, source: source, in: &scratch) : graph.lookup(args["target"]?.stringValue ?? "")
            switch targetResult {
            case .success(let t): target = t
            case .failure(let error): return .failure(error)
            }
            if !targetIsFile, graph.backendIndex(rootedAt: target) != nil {
                return .failure(.generic("Node '\(target)' is already in use"))
            }
            let options = JobStartOptions(args)
            return speed(options.speed).flatMap { speed in
                jobID(options.jobID, device: device).map { id in
                    graph = scratch
                    let len = sync == "none" ? 0 : allocated(source, wholeChain: sync == "full")
                    let job = BlockJob(id: id, kind: .mirror, len: len, speed: speed, options: options, waitsForCompletion: true, nodes: [source, target])
                    let keepBacking = sync != "full"
                    let dropTarget = targetIsFile
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
