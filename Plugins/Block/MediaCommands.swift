import QMPPluginKit
import QMPWire

/// Removable media: trays, guest locks and media changes, as blockdev.c's
/// do_open_tray, blockdev_remove_medium and qmp_blockdev_insert_anon_medium
/// do them, with their texts.
extension BlockPlugin {
    static func registerMedia(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.BlockdevOpenTrayCommand.self) { this, args in
            // A locked tray is asked to open; that is not an error here.
            switch this.openTray(args.device, args.id, force: args.force ?? false) {
            case .failure(.refused(let error)): return .failure(error)
            default: return .success([:])
            }
        }
        plugin.command(QAPI.BlockdevCloseTrayCommand.self) { this, args in
            this.closeTray(args.device, args.id).map { .object([:]) }
        }
        plugin.command(QAPI.EjectCommand.self) { this, args in
            let device = args.device, id = args.id
            switch this.openTray(device, id, force: args.force ?? false) {
            case .failure(.refused(let error)), .failure(.requested(let error)): return .failure(error)
            default: return this.removeMedium(device, id).map { .object([:]) }
            }
        }
        plugin.command(QAPI.BlockdevRemoveMediumCommand.self) { this, args in this.removeMedium(nil, args.id).map { .object([:]) } }
        plugin.command(QAPI.XBlockdevRemoveMediumCommand.self) { this, args in
            this.removeMedium(args.device, args.id).map { .object([:]) }
        }
        plugin.command(QAPI.BlockdevInsertMediumCommand.self) { this, args in
            this.insertMedium(nil, args.id, node: args.nodeName).map { .object([:]) }
        }
        plugin.command(QAPI.XBlockdevInsertMediumCommand.self) { this, args in
            this.insertMedium(args.device, args.id, node: args.nodeName).map { .object([:]) }
        }
        plugin.command(QAPI.BlockdevChangeMediumCommand.self, throwing: { this, args throws(QMPError) in try this.changeMedium(args) })
    }

    /// How do_open_tray ended when it did not simply succeed.
    enum TrayRefusal: Error {
        /// A hard error (no such device, not removable).
        case refused(QMPError)
        /// Tray-less device: the caller carries on (-ENOSYS).
        case noTray(QMPError)
        /// The guest was asked to open a locked tray (-EINPROGRESS).
        case requested(QMPError)
    }

    func openTray(_ device: String?, _ id: String?, force: Bool) -> Result<Void, TrayRefusal> {
        let index: Int
        switch graph.backend(device: device, id: id) {
        case .success(let i): index = i
        case .failure(let error): return .failure(.refused(error))
        }
        let label = id ?? device ?? ""
        let backend = graph.backends[index]
        guard backend.removable else { return .failure(.refused(.generic("Device '\(label)' is not removable"))) }
        guard backend.hasTray else { return .failure(.noTray(.generic("Device '\(label)' does not have a tray"))) }
        if backend.trayOpen { return .success(()) }
        if backend.locked {
            guestEjectRequest(index, force: force)
            if !force {
                return .failure(.requested(.generic("Device '\(label)' is locked and force was not specified, wait for tray to open and try again")))
            }
        }
        moveTray(index, open: true)
        return .success(())
    }

    func closeTray(_ device: String?, _ id: String?) -> Result<Void, QMPError> {
        graph.backend(device: device, id: id).flatMap { index in
            let backend = graph.backends[index]
            guard backend.removable else { return .failure(.generic("Device '\(id ?? device ?? "")' is not removable")) }
            if backend.hasTray && backend.trayOpen { moveTray(index, open: false) }
            return .success(())
        }
    }

    /// The tray moves: state, then DEVICE_TRAY_MOVED.
    func moveTray(_ index: Int, open: Bool) {
        graph.backends[index].trayOpen = open
        if open { graph.backends[index].locked = false }
        let backend = graph.backends[index]
        vm.emit("DEVICE_TRAY_MOVED", ["device": .string(backend.name), "id": .string(backend.device?.id ?? backend.device?.path ?? ""),
                                      "tray-open": .bool(open)])
    }

    /// The guest's answer to an eject request on a locked tray: a forced
    /// request unlocks at once; otherwise the guest unlocks and opens the
    /// tray a moment later, if it honours such requests.
    func guestEjectRequest(_ index: Int, force: Bool) {
        if force { graph.backends[index].locked = false; return }
        guard config.guestHonoursEject else { return }
        let name = graph.backends[index].name, path = graph.backends[index].device?.path
        vm.startTimer(afterMilliseconds: config.guestDelayMilliseconds) { [weak self] in
            guard let self, let i = self.graph.backends.firstIndex(where: { $0.name == name && $0.device?.path == path }),
                  !self.graph.backends[i].trayOpen else { return }
            self.graph.backends[i].locked = false
            self.moveTray(i, open: true)
        }
    }

    func removeMedium(_ device: String?, _ id: String?) -> Result<Void, QMPError> {
        graph.backend(device: device, id: id).flatMap { index in
            let backend = graph.backends[index], label = id ?? device ?? ""
            guard backend.removable else { return .failure(.generic("Device '\(label)' is not removable")) }
            if backend.hasTray && !backend.trayOpen { return .failure(.generic("Tray of device '\(label)' is not open")) }
            guard let root = backend.root else { return .success(()) }
            if let job = jobUsing(root) { return .failure(job.busyError(node: root)) }
            graph.backends[index].root = nil
            graph.deleteNodeIfOrphan(root)
            return .success(())
        }
    }

    func insertMedium(_ device: String?, _ id: String?, node: String) -> Result<Void, QMPError> {
        graph.backend(device: device, id: id).flatMap { index in
            guard graph.node(node) != nil else { return .failure(.generic("Node '\(node)' not found")) }
            if graph.backendIndex(rootedAt: node) != nil { return .failure(.generic("Node '\(node)' is already in use")) }
            let backend = graph.backends[index]
            guard backend.removable else { return .failure(.generic("Device '\(backend.name)' is not removable")) }
            if backend.hasTray && !backend.trayOpen { return .failure(.generic("Tray of device '\(backend.name)' is not open")) }
            if backend.root != nil { return .failure(.generic("There already is a medium in the device")) }
            graph.backends[index].root = node
            return .success(())
        }
    }

    /// Open the new image, open the tray, swap the medium, close the tray.
    func changeMedium(_ args: QAPI.BlockdevChangeMediumCommand) throws(QMPError) -> JSONValue {
        let device = args.device, id = args.id
        let index = try graph.backend(device: device, id: id).get()
        let filename = args.filename
        let mode = args.readOnlyMode?.rawValue ?? "retain"
        let readOnly = mode == "read-only" || (mode == "retain" && graph.backends[index].readOnly)
        var opened = graph
        let node = try openImage(filename, format: args.format, readOnly: readOnly, in: &opened).get()
        switch openTray(device, id, force: args.force ?? false) {
        case .failure(.refused(let error)), .failure(.requested(let error)): throw error
        default: break
        }
        try removeMedium(device, id).get()
        // The new nodes join the graph only now: a failure above leaves none behind.
        for n in opened.nodes where graph.node(n.name) == nil { graph.nodes.append(n) }
        graph.adoptNameCounter(from: opened)
        try insertMedium(device, id, node: node).get()
        try closeTray(device, id).get()
        return .object([:])
    }
}
