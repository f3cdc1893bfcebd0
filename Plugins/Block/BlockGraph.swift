import QMPWire

/// The block layer's state for one VM: nodes in creation order, backends in
/// creation order. A value, so a failed `transaction` restores a copy.
struct BlockGraph {
    var nodes: [BlockNode] = []
    var backends: [BlockBackend] = []
    /// QEMU's id counter for `#block` names (id_generate).
    fileprivate(set) var autoNameCounter = 0

    // MARK: Nodes

    func node(_ name: String) -> BlockNode? { nodes.first { $0.name == name } }
    func nodeIndex(_ name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    subscript(node name: String) -> BlockNode? {
        get { node(name) }
        set {
            guard let i = nodeIndex(name) else { return }
            if let newValue { nodes[i] = newValue } else { nodes.remove(at: i) }
        }
    }

    /// Changes the node named `name` where it is, if there is one: one
    /// look-up, where each `graph[node: name]?.member = value` looked it up
    /// twice and copied the whole node out and back (a configured drive's
    /// nodes were set up that way, 6 k instructions of each VM).
    mutating func modifyNode(named name: String, _ body: (inout BlockNode) -> Void) {
        guard let i = nodeIndex(name) else { return }
        body(&nodes[i])
    }

    /// `#block` + counter + two pseudo-random digits, as id_generate makes
    /// them; the digits are derived from the counter so runs repeat.
    mutating func generateNodeName() -> String {
        let n = autoNameCounter
        autoNameCounter += 1
        let digits = (n * 37 + 19) % 100
        return "#block\(n)" + (digits < 10 ? "0\(digits)" : "\(digits)")
    }

    /// Checks a client-chosen node-name as bdrv_assign_node_name does.
    func checkNewNodeName(_ name: String) -> QMPError? {
        guard QEMUIdentifier.isWellFormed(name) else { return .generic("Invalid node-name: '\(name)'") }
        if backends.contains(where: { $0.name == name }) { return .generic("node-name=\(name) is conflicting with a device id") }
        if node(name) != nil { return .generic("Duplicate nodes with node-name='\(name)'") }
        return nil
    }

    /// The refusal of `count` more nodes past `BlockLimits.nodesPerVM`.
    func refusalOfNewNodes(_ count: Int) -> QMPError? {
        nodes.count + count <= BlockLimits.nodesPerVM ? nil : BlockLimits.refusal(BlockLimits.nodesPerVM, "block nodes")
    }

    /// The chain below `name`, top first, through backing links.
    func backingChain(_ name: String) -> [BlockNode] {
        var chain: [BlockNode] = []
        var next: String? = name
        while let n = next, let node = node(n), chain.count <= nodes.count {
            chain.append(node)
            next = node.backing
        }
        return chain
    }

    /// Who holds a node: a backend, or a parent node.
    func parents(of name: String) -> [String] {
        var holders = backends.filter { $0.root == name }.map { "backend \($0.name)" }
        holders += nodes.filter { $0.file == name || $0.backing == name }.map(\.name)
        return holders
    }

    /// Removes a node and, recursively, children no one else holds.
    mutating func deleteNode(_ name: String) {
        guard let node = node(name) else { return }
        self[node: name] = nil
        for child in [node.file, node.backing].compactMap({ $0 }) where parents(of: child).isEmpty && !(self.node(child)?.monitorOwned ?? true) {
            deleteNode(child)
        }
    }

    // MARK: Backends

    func backendIndex(named name: String) -> Int? { backends.firstIndex { $0.name == name && !name.isEmpty } }

    /// The backend whose root is `node`.
    func backendIndex(rootedAt node: String) -> Int? { backends.firstIndex { $0.root == node } }

    /// A guest device by qdev id or QOM path.
    func backendIndex(deviceID id: String) -> Int? {
        backends.firstIndex { backend in
            guard let device = backend.device else { return false }
            return (device.id == id && device.model != .virtioBlkPCI) || device.qdev == id || (device.device.hasQOMPath(id) && device.model != .virtioBlkPCI)
        }
    }

    // MARK: Lookups with QEMU's errors

    /// bdrv_lookup_bs: a backend name (its root), else a node-name.
    func lookup(device: String?, node nodeName: String?) -> Result<String, QMPError> {
        if let device, let i = backendIndex(named: device) {
            guard let root = backends[i].root else { return .failure(.generic("Device '\(device)' has no medium")) }
            return .success(root)
        }
        if let nodeName, node(nodeName) != nil { return .success(nodeName) }
        return .failure(.generic("Cannot find device='\(device ?? "")' nor node-name='\(nodeName ?? "")'"))
    }

    /// The same for commands with one name that may be either.
    func lookup(_ name: String) -> Result<String, QMPError> { lookup(device: name, node: name) }

    /// qmp_get_blk: exactly one of a backend name and a device id.
    func backend(device: String?, id: String?) -> Result<Int, QMPError> {
        switch (device, id) {
        case (let device?, nil):
            guard let i = backendIndex(named: device) else { return .failure(QMPError(.deviceNotFound, "Device '\(device)' not found")) }
            return .success(i)
        case (nil, let id?):
            if let i = backendIndex(deviceID: id) { return .success(i) }
            if knownDeviceIDs.contains(id) { return .failure(.generic("Device does not have a block device backend")) }
            return .failure(QMPError(.deviceNotFound, "Device '\(id)' not found"))
        default:
            return .failure(.generic("Need exactly one of 'device' and 'id'"))
        }
    }

    /// Devices this plugin knows that hold no backend directly
    /// (virtio-blk-pci's proxy: its backend sits on the inner device).
    var knownDeviceIDs: Set<String> {
        Set(backends.compactMap { $0.device?.model == .virtioBlkPCI ? $0.device?.id : nil })
    }
}

extension BlockGraph {
    /// Drops a node no backend, parent or monitor reference holds any more.
    mutating func deleteNodeIfOrphan(_ name: String) {
        guard let node = node(name), !node.monitorOwned, parents(of: name).isEmpty else { return }
        deleteNode(name)
    }

    /// Keeps the `#block` counter of a scratch copy, so names stay unique.
    mutating func adoptNameCounter(from other: BlockGraph) {
        autoNameCounter = max(autoNameCounter, other.autoNameCounter)
    }
}
