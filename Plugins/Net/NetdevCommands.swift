import QMPPluginKit
import QMPWire

/// netdev_add, netdev_del and set_link.
extension NetPlugin {
    /// The live backend named `id` (deleted ones no longer answer to it).
    func netdev(_ id: String) -> Netdev? { netdevs.first { $0.id == id } }

    /// `options` are the request's members, kept as given: `query-netdev`-
    /// style views and the hubport's peer read them back.
    func netdevAdd(_ args: QAPI.NetdevAddCommand, options given: JSONObject) -> Result<JSONValue, QMPError> {
        addNetdev(args.arguments, given)
    }

    /// Shared by netdev_add and the config's `netdevs`.
    func addNetdev(_ args: QAPI.Netdev, _ given: JSONObject) -> Result<JSONValue, QMPError> {
        let id = args.id
        guard QEMUIdentifier.isWellFormed(id) else { return .failure(.generic("Parameter 'id' expects an identifier")) }
        guard netdev(id) == nil else { return .failure(.generic("Duplicate ID '\(id)'")) }
        guard netdevs.count < Self.netdevsPerVM else {
            return .failure(.generic("The VM holds \(Self.netdevsPerVM) netdevs already (the net plugin's limit)"))
        }
        if let error = NetdevBackendCheck.check(args) { return .failure(error) }
        var options = given
        _ = options.removeValue(forKey: "id")
        _ = options.removeValue(forKey: "type")
        let backend = Netdev(id: id, type: args.type.rawValue, options: options)
        if case .hubport(let hub) = args.variant, let peerID = hub.netdev, let peer = netdev(peerID) {
            guard peer.peerName == nil else { return .failure(.generic("Property 'netdev' can't take value '\(peerID)', it's in use")) }
            peer.peerName = id
            backend.peerName = peerID
        }
        backend.created = nextClientNumber
        nextClientNumber += 1
        netdevs.append(backend)
        return .success(.object([:]))
    }

    /// QEMU 7.2 lets a backend go while a NIC uses it: the NIC keeps a
    /// dangling peer until it is unplugged.
    func netdevDel(_ args: QAPI.NetdevDelCommand) -> Result<JSONValue, QMPError> {
        let id = args.id
        guard let backend = netdev(id) else { return .failure(.deviceNotFound(id)) }
        netdevs.removeAll { $0 === backend }
        if let peerID = backend.peerName, let hub = netdev(peerID) { hub.peerName = nil }
        if nics.contains(where: { $0.netdev === backend }) { backend.isDeleted = true }
        return .success(.object([:]))
    }

    /// Changes the link of a NIC or a backend; a backend's change reaches the
    /// NIC behind it, as in QEMU.
    func setLink(_ args: QAPI.SetLinkCommand) -> Result<JSONValue, QMPError> {
        let name = args.name
        let up = args.up
        if let nic = nic(named: name) {
            nic.linkUp = up
            return .success(.object([:]))
        }
        guard let backend = netdev(name) else { return .failure(.deviceNotFound(name)) }
        backend.linkUp = up
        for nic in nics where nic.netdev === backend { nic.linkUp = up }
        return .success(.object([:]))
    }
}
