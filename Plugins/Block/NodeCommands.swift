import QMPPluginKit
import QMPWire

/// Nodes and backends: blockdev-add/-del, block_resize, change-backing-file,
/// x-blockdev-change, block_passwd, write thresholds and I/O throttling.
extension BlockPlugin {
    static func registerNodes(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.BlockdevAddCommand.self, keepingMembers: { this, args, given in this.blockdevAdd(args, options: given) })
        plugin.command(QAPI.BlockdevDelCommand.self) { this, args in this.blockdevDel(args.nodeName) }
        plugin.command(QAPI.XBlockdevDelCommand.self) { this, args in this.blockdevDel(args.nodeName) }
        plugin.command(QAPI.BlockResizeCommand.self) { this, args in this.resize(args) }
        plugin.command(QAPI.ChangeBackingFileCommand.self) { this, args in this.changeBackingFile(args) }
        plugin.command(QAPI.XBlockdevChangeCommand.self) { this, args in this.changeChild(args) }
        plugin.command(QAPI.BlockPasswdCommand.self) { this, args in
            this.graph.lookup(device: args.device, node: args.nodeName).flatMap { node in
                this.graph.node(node)?.encrypted == true ? .success([:]) : .failure(.generic("Device '\(args.device ?? node)' is not encrypted"))
            }
        }
        plugin.command(QAPI.BlockSetWriteThresholdCommand.self) { this, args in
            let name = args.nodeName
            guard this.graph.node(name) != nil else { return .failure(.generic("Device '\(name)' not found")) }
            this.graph[node: name]?.writeThreshold = args.writeThreshold
            return .success([:])
        }
        plugin.command(QAPI.BlockSetIoThrottleCommand.self) { this, args in this.setThrottle(args) }
    }

    /// `options` are the request's members as given: a node keeps them in
    /// the client's order, as QEMU's `json:` filenames show them.
    func blockdevAdd(_ args: QAPI.BlockdevAddCommand, options: JSONObject) -> Result<JSONValue, QMPError> {
        guard let name = args.nodeName else {
            return .failure(.generic("'node-name' must be specified for the root node"))
        }
        var scratch = graph
        switch addNode(options, nodeName: name, in: &scratch) {
        case .success:
            scratch[node: name]?.monitorOwned = true
            graph = scratch
            return .success([:])
        case .failure(let error):
            return .failure(error)
        }
    }

    /// One BlockdevOptions, children first (a child given inline is opened
    /// with a generated name, one given as a string names an existing node).
    func addNode(_ options: JSONObject, nodeName: String?, in graph: inout BlockGraph) -> Result<String, QMPError> {
        let driver = options["driver"]?.stringValue ?? ""
        let readOnly = options["read-only"]?.boolValue ?? false
        if let nodeName, let error = graph.checkNewNodeName(nodeName) { return .failure(error) }
        if let refusal = graph.refusalOfNewNodes(1) { return .failure(refusal) }
        if BlockNode.protocolDrivers.contains(driver) || driver == "host_cdrom" {
            var node: BlockNode
            if BlockNode.nullDrivers.contains(driver) {
                let size = options["size"]?.int64Value ?? (1 << 30)
                // QEMU 7.2 aborts on a negative size (parse_option_size); refuse it with its words instead.
                guard size >= 0 else { return .failure(.generic("Parameter 'size' expects a non-negative number below 2^64")) }
                node = BlockNode(name: "", driver: driver, filename: BlockNode.nullFilename(driver, options),
                                 virtualSize: BlockNode.sectorAligned(size), actualSize: 0, readOnly: readOnly)
            } else {
                let filename = options["filename"]?.stringValue ?? ""
                if !readOnly, graph.nodes.contains(where: { !$0.isFormat && $0.filename == filename }) {
                    return .failure(.generic("Failed to get \"write\" lock"))
                }
                let image: ImageFile
                switch self.image(at: filename) {
                case .success(let found): image = found
                case .failure(let error): return .failure(error)
                }
                node = BlockNode(name: "", driver: driver, filename: filename, virtualSize: image.actualSize, actualSize: image.actualSize, readOnly: readOnly)
            }
            node.name = nodeName ?? graph.generateNodeName()
            graph.nodes.append(node)
            return .success(node.name)
        }
        guard driver == "raw" || BlockNode.cowDrivers.contains(driver) else {
            return .failure(.generic("Driver '\(driver)' is not supported by this simulation"))
        }
        let file: String
        switch childReference(options["file"], readOnly: readOnly, in: &graph) {
        case .success(let name?): file = name
        case .success(nil): return .failure(.generic("A block device must be specified for \"file\""))
        case .failure(let error): return .failure(error)
        }
        guard let fileNode = graph.node(file) else { return .failure(.generic("Node '\(file)' not found")) }
        let image = self.image(at: fileNode.filename).success
            ?? .created(format: "raw", virtualSize: fileNode.virtualSize)
        if driver == "qcow2" && image.format != "qcow2" { return .failure(.generic("Image is not in qcow2 format")) }
        var node = BlockNode(name: nodeName ?? graph.generateNodeName(), driver: driver, filename: fileNode.filename,
                             virtualSize: driver == "raw" ? fileNode.virtualSize : image.virtualSize,
                             actualSize: fileNode.actualSize, readOnly: readOnly)
        node.file = file
        if driver != "raw" {
            switch options["backing"] {
            case .some(.null):
                break
            case .some(let ref):
                switch childReference(ref, readOnly: true, in: &graph) {
                case .success(let backing): node.backing = backing
                case .failure(let error): return .failure(error)
                }
            case .none:
                if let backingFile = image.backingFile {
                    switch openImage(backingFile, format: nil, readOnly: true, in: &graph) {
                    case .success(let backing): node.backing = backing
                    case .failure(let error): return .failure(.generic("Could not open backing file: \(error.desc)"))
                    }
                }
            }
            node.backingFilename = node.backing.flatMap { graph.node($0)?.filename }
        }
        graph.nodes.append(node)
        return .success(node.name)
    }

    /// BlockdevRef: a node name, or inline options for a new node.
    private func childReference(_ ref: JSONValue?, readOnly: Bool, in graph: inout BlockGraph) -> Result<String?, QMPError> {
        switch ref {
        case .string(let name)?:
            guard graph.node(name) != nil else { return .failure(.generic("Cannot find device='' nor node-name='\(name)'")) }
            return .success(name)
        case .object(var options)?:
            if options["read-only"] == nil { options["read-only"] = .bool(readOnly) }
            return addNode(options, nodeName: options["node-name"]?.stringValue, in: &graph).map { Optional($0) }
        default:
            return .success(nil)
        }
    }

    func blockdevDel(_ name: String) -> Result<JSONValue, QMPError> {
        guard let node = graph.node(name) else { return .failure(.generic("Failed to find node with node-name='\(name)'")) }
        if graph.backendIndex(rootedAt: name) != nil { return .failure(.generic("Node \(name) is in use")) }
        if let job = jobUsing(name) { return .failure(job.busyError(node: name)) }
        guard node.monitorOwned else { return .failure(.generic("Node \(name) is not owned by the monitor")) }
        if !graph.parents(of: name).isEmpty { return .failure(.generic("Block device \(name) is in use")) }
        graph[node: name]?.monitorOwned = false
        graph.deleteNode(name)
        return .success([:])
    }

    func resize(_ args: QAPI.BlockResizeCommand) -> Result<JSONValue, QMPError> {
        let device = args.device, nodeName = args.nodeName
        let size = args.size
        return graph.lookup(device: device, node: nodeName).flatMap { name in
            guard size >= 0 else { return .failure(.generic("Parameter 'size' expects a >0 size")) }
            if jobUsing(name) != nil { return .failure(.generic("Device '\(device ?? nodeName ?? "")' is in use")) }
            guard let node = graph.node(name) else { return .failure(.generic("Node '\(name)' not found")) }
            if node.readOnly { return .failure(.generic("Image is read-only")) }
            // bdrv_co_truncate: the null drivers have no truncate (a raw node passes it to its file, which refuses).
            let resized = node.driver == "raw" ? node.file.flatMap { graph.node($0) } ?? node : node
            if BlockNode.nullDrivers.contains(resized.driver) { return .failure(.generic("Image format driver does not support resize")) }
            if node.driver == "qcow2" {
                if size % 512 != 0 { return .failure(.generic("The new size must be a multiple of 512")) }
                if size < node.virtualSize && !node.snapshots.isEmpty { return .failure(.generic("Can't resize an image which has snapshots")) }
            }
            graph[node: name]?.virtualSize = size
            graph[node: name]?.allocated = min(node.allocated, size)
            if node.driver == "raw", let file = node.file {
                graph[node: file]?.virtualSize = size
                let newValue3 = max(ImageFile.rawBlock, graph.node(file)?.actualSize ?? 0)
                graph[node: file]?.actualSize = newValue3
            }
            return .success([:])
        }
    }

    func changeBackingFile(_ args: QAPI.ChangeBackingFileCommand) -> Result<JSONValue, QMPError> {
        let device = args.device, imageName = args.imageNodeName
        let backingFile = args.backingFile
        return graph.lookup(device).flatMap { top in
            graph.lookup(device: nil, node: imageName).flatMap { image in
                guard graph.node(image)?.backing != nil else {
                    return .failure(.generic("not allowing backing file change on an image without a backing file"))
                }
                if let job = jobUsing(top) { return .failure(job.busyError(node: device)) }
                guard graph.backingChain(top).contains(where: { $0.name == image }) else {
                    return .failure(.generic("'\(device)' and image '\(imageName)' are not in the same chain"))
                }
                guard graph.node(image)?.supportsBacking == true else {
                    return .failure(.generic("Could not change the backing file to '\(backingFile)': Operation not supported"))
                }
                graph[node: image]?.backingFilename = backingFile
                return .success([:])
            }
        }
    }

    /// x-blockdev-change: only quorum takes children, and this simulation
    /// has none, so every change ends in QEMU's refusal.
    func changeChild(_ args: QAPI.XBlockdevChangeCommand) -> Result<JSONValue, QMPError> {
        let parent = args.parent
        return graph.lookup(parent).flatMap { parentName in
            let child = args.child, node = args.node
            if (child == nil) == (node == nil) {
                return .failure(.generic(child != nil ? "The parameters child and node are in conflict" : "Either child or node must be specified"))
            }
            if let child {
                let p = graph.node(parentName)
                guard p?.file == child || p?.backing == child else { return .failure(.generic("Node '\(parentName)' does not have child '\(child)'")) }
                return .failure(.generic("The node \(parentName) does not support removing a child"))
            }
            guard let node, graph.node(node) != nil else { return .failure(.generic("Node '\(node ?? "")' not found")) }
            return .failure(.generic("The node \(parentName) does not support adding a child"))
        }
    }

    func setThrottle(_ args: QAPI.BlockSetIoThrottleCommand) -> Result<JSONValue, QMPError> {
        let device = args.device, id = args.id
        return graph.backend(device: device, id: id).flatMap { index in
            let backend = graph.backends[index]
            guard backend.root != nil else { return .failure(.generic("Device '\(device ?? id ?? "")' has no medium")) }
            let group = args.group ?? backend.throttle?.group ?? (backend.name.isEmpty ? (id ?? "") : backend.name)
            return ThrottleSettings.parse(args, group: group).map { settings in
                graph.backends[index].throttle = settings.isEnabled ? settings : nil
                return .object([:])
            }
        }
    }
}

extension Result {
    /// The value, or nil on failure.
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
