#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// External snapshots (a new overlay on top of the active layer) and
/// internal qcow2 snapshots.
extension BlockPlugin {
    static func registerSnapshots(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command("blockdev-snapshot-sync", arguments: QAPI.BlockdevSnapshotSync.self) { this, args in this.snapshotSync(args) }
        plugin.command("blockdev-snapshot", arguments: QAPI.BlockdevSnapshot.self) { this, args in this.snapshot(args) }
        plugin.command("blockdev-snapshot-internal-sync", arguments: QAPI.BlockdevSnapshotInternal.self) { this, args in this.internalSnapshot(args) }
        plugin.command(QAPI.BlockdevSnapshotDeleteInternalSyncCommand.self) { this, args in this.deleteInternalSnapshot(args) }
    }

    func snapshotSync(_ args: QAPI.BlockdevSnapshotSync) -> Result<JSONValue, QMPError> {
        let device = args.device, nodeName = args.nodeName
        return graph.lookup(device: device, node: nodeName).flatMap { active in
            if let job = jobUsing(active) { return .failure(job.busyError(node: device ?? active)) }
            let overlayName = args.snapshotNodeName
            if nodeName != nil && overlayName == nil { return .failure(.generic("New overlay node-name missing")) }
            if let overlayName, graph.node(overlayName) != nil || graph.backendIndex(named: overlayName) != nil {
                return .failure(.generic("New overlay node-name already in use"))
            }
            let file = args.snapshotFile
            let format = args.format ?? "qcow2"
            guard let old = graph.node(active) else { return .failure(.generic("Node '\(active)' not found")) }
            // The overlay's image is created only when its nodes can be made.
            if let refusal = graph.refusalOfNewNodes(2) { return .failure(refusal) }
            if args.mode != .existing {
                if file == old.filename { return .failure(.generic("Error: Trying to create an image with the same filename as the backing file")) }
                if case .failure(let refusal) = createImage(file, format: format, virtualSize: old.virtualSize, backingFile: old.filename) {
                    return .failure(refusal)
                }
            }
            var scratch = graph
            return openImage(file, format: format, nodeName: overlayName, readOnly: false, in: &scratch).flatMap { overlay in
                attachOverlay(overlay, over: active, in: &scratch).map {
                    graph = scratch
                    return .object([:])
                }
            }
        }
    }

    func snapshot(_ args: QAPI.BlockdevSnapshot) -> Result<JSONValue, QMPError> {
        graph.lookup(args.node).flatMap { active in
            graph.lookup(args.overlay).flatMap { overlay in
                if let job = jobUsing(active) { return .failure(job.busyError(node: active)) }
                if graph.backendIndex(rootedAt: overlay) != nil { return .failure(.generic("The overlay is already in use")) }
                if graph.node(overlay)?.backing != nil { return .failure(.generic("The overlay already has a backing image")) }
                var scratch = graph
                return attachOverlay(overlay, over: active, in: &scratch).map {
                    graph = scratch
                    return .object([:])
                }
            }
        }
    }

    /// bdrv_append: the overlay takes the active layer's place.
    func attachOverlay(_ overlay: String, over active: String, in graph: inout BlockGraph) -> Result<Void, QMPError> {
        guard graph.node(overlay)?.supportsBacking == true else { return .failure(.generic("The overlay does not support backing images")) }
        graph[node: overlay]?.backing = active
        let newValue1 = graph.node(active)?.filename
        graph[node: overlay]?.backingFilename = newValue1
        let newValue2 = graph.node(active)?.virtualSize ?? 0
        graph[node: overlay]?.virtualSize = newValue2
        for b in graph.backends.indices where graph.backends[b].root == active { graph.backends[b].root = overlay }
        return .success(())
    }

    func internalSnapshot(_ args: QAPI.BlockdevSnapshotInternal) -> Result<JSONValue, QMPError> {
        let device = args.device, name = args.name
        return graph.lookup(device).flatMap { node in
            if let job = jobUsing(node) { return .failure(job.busyError(node: device)) }
            guard let n = graph.node(node) else { return .failure(.generic("Node '\(node)' not found")) }
            if n.readOnly { return .failure(.generic("Device '\(device)' is read only")) }
            guard BlockNode.snapshotDrivers.contains(n.driver) else {
                return .failure(.generic("Block format '\(n.driver)' used by device '\(device)' does not support internal snapshots"))
            }
            if name.isEmpty { return .failure(.generic("Name is empty")) }
            if n.snapshots.contains(where: { $0.name == name }) {
                return .failure(.generic("Snapshot with name '\(name)' already exists on device '\(device)'"))
            }
            guard graph.nodes.reduce(0, { $0 + $1.snapshots.count }) < BlockLimits.internalSnapshotsPerVM else {
                return .failure(BlockLimits.refusal(BlockLimits.internalSnapshotsPerVM, "internal snapshots"))
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let id = (n.snapshots.compactMap { Int($0.id) }.max() ?? 0) + 1
            graph[node: node]?.snapshots.append(InternalSnapshot(id: "\(id)", name: name, dateSeconds: Int64(now.tv_sec),
                                                                 dateNanoseconds: Int64(now.tv_nsec) / 1000 * 1000,
                                                                 vmClockNanoseconds: nowNanoseconds))
            return .success([:])
        }
    }

    func deleteInternalSnapshot(_ args: QAPI.BlockdevSnapshotDeleteInternalSyncCommand) -> Result<JSONValue, QMPError> {
        let device = args.device
        let id = args.id, name = args.name
        return graph.lookup(device).flatMap { node in
            if id == nil && name == nil { return .failure(.generic("Name or id must be provided")) }
            if let job = jobUsing(node) { return .failure(job.busyError(node: device)) }
            guard let n = graph.node(node), BlockNode.snapshotDrivers.contains(n.driver) else {
                return .failure(.generic("Block format '\(graph.node(node)?.driver ?? "")' used by device '\(device)' does not support internal snapshots"))
            }
            guard let i = n.snapshots.firstIndex(where: { (id == nil || $0.id == id) && (name == nil || $0.name == name) }) else {
                return .failure(.generic("Snapshot with id '\(id ?? "null")' and name '\(name ?? "null")' does not exist on device '\(device)'"))
            }
            let removed = n.snapshots[i]
            graph[node: node]?.snapshots.remove(at: i)
            return .success(removed.info)
        }
    }
}
