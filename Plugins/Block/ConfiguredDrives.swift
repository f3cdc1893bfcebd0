import QMPPluginKit
import QMPWire

extension BlockPlugin {
    /// Builds one `-drive` and its device from the config: the backing
    /// chain bottom up, the image on top, the backend, the device.
    func addConfiguredDrive(_ drive: DriveConfig) -> Result<Void, QMPError> {
        var graph = self.graph
        var below: String?
        for layer in drive.backing.reversed() {
            if images[layer.file] == nil, case .failure(let error) = createImage(layer.file, format: layer.format, virtualSize: drive.size) {
                return .failure(error)
            }
            switch openImage(layer.file, format: layer.format, readOnly: true, in: &graph) {
            case .success(let name):
                let backingFilename = below.flatMap { graph.node($0)?.filename }
                graph.modifyNode(named: name) { node in
                    node.backing = below
                    node.backingFilename = backingFilename
                }
                below = name
            case .failure(let error): return .failure(error)
            }
        }
        var root: String?
        if let file = drive.file {
            if images[file] == nil {
                images[file] = .created(format: drive.format, virtualSize: drive.size, allocated: drive.allocated)
            }
            switch openImage(file, format: drive.format, nodeName: drive.nodeName, readOnly: drive.readOnly, in: &graph) {
            case .success(let name):
                root = name
                let backingFilename = below.flatMap { graph.node($0)?.filename }
                graph.modifyNode(named: name) { node in
                    node.allocated = drive.allocated
                    node.backing = below
                    node.backingFilename = backingFilename
                    for (i, snapshot) in drive.snapshots.enumerated() {
                        node.snapshots.append(InternalSnapshot(id: "\(i + 1)", name: snapshot, dateSeconds: 0, dateNanoseconds: 0, vmClockNanoseconds: 0))
                    }
                }
            case .failure(let error): return .failure(error)
            }
        }
        if graph.backendIndex(named: drive.id) != nil { return .failure(.generic("Duplicate ID '\(drive.id)' for drive")) }
        var backend = BlockBackend(name: drive.id, root: root)
        backend.readOnly = drive.readOnly
        if let model = drive.model {
            backend.device = AttachedDevice(configuredDevice(id: drive.device, in: graph), model: model)
        }
        graph.backends.append(backend)
        self.graph = graph
        return .success(())
    }

    /// A configured drive's device (`NewDevice.configured`: one without a
    /// device id is numbered among the configured drives without one, in
    /// config order).
    func configuredDevice(id: String?, in graph: BlockGraph) -> NewDevice {
        NewDevice.configured(id: id, anonymousBefore: graph.backends.filter { $0.device != nil && $0.device?.id == nil }.count)
    }
}
