import QMPPluginKit
import QMPWire

/// chardev-add, chardev-remove, chardev-change, chardev-send-break,
/// query-chardev and query-chardev-backends, with QEMU 7.2's texts.
extension ChardevPlugin {
    func chardev(_ id: String) -> Chardev? { chardevs.first { $0.id == id } }

    /// An opener that finds a mux's base among the VM's chardevs.
    var opener: ChardevOpener { ChardevOpener(vm: vm, find: { [weak self] in self?.chardev($0) }) }

    /// QEMU looks the backend's class up first, which loads the module
    /// that provides it (`ChardevKinds`), whatever happens next.
    func loadModule(for backend: QAPI.ChardevBackend) {
        if let module = ChardevKinds.modules[backend.type.rawValue] { loadedModules.insert(module) }
    }

    static func reply(for chardev: Chardev) -> JSONValue {
        var reply: JSONObject = [:]
        if let pty = chardev.backend.ptyPath { reply["pty"] = .string(pty) }
        return .object(reply)
    }

    /// Files are opened off the loop; the reply comes once they are. Past
    /// `chardevsPerVM` (those opening included) a new id is refused before
    /// anything is opened; a duplicate id still gets QEMU's own text.
    func chardevAdd(_ args: QAPI.ChardevAddCommand, reply: Reply) {
        loadModule(for: args.backend)
        let id = args.id
        guard chardev(id) != nil || opening.contains(id) || chardevs.count + opening.count < Self.chardevsPerVM else {
            return reply.failure(.generic("Failed to add chardev '\(id)': the VM holds \(Self.chardevsPerVM) chardevs already (the chardev plugin's limit)"))
        }
        addChardev(id: args.id, backend: args.backend, for: reply) { reply($0.map(ChardevPlugin.reply(for:))) }
    }

    /// The config's chardevs: made at once, their files and socket opened
    /// off the loop (`ChardevOpener.openDeferred`). They are the ones the
    /// VM is made with, so `order` keeps no table for them: QEMU's is made
    /// from them, in this order, when a change or `query-chardev` needs it.
    func addChardev(id: String, backend: QAPI.ChardevBackend) -> Result<Chardev, QMPError> {
        loadModule(for: backend)
        guard chardev(id) == nil else { return .failure(.generic("Chardev with id '\(id)' already exists")) }
        return added(id, opener.openDeferred(id: id, backend), changesOrder: false)
    }

    /// chardev-add and chardev-change's easy case: opened off the loop.
    func addChardev(id: String, backend: QAPI.ChardevBackend, for reply: Reply, then done: @escaping (Result<Chardev, QMPError>) -> Void) {
        guard chardev(id) == nil, !opening.contains(id) else { return done(.failure(.generic("Chardev with id '\(id)' already exists"))) }
        opening.insert(id)
        opener.open(id: id, backend, for: reply, cancelled: { [weak self] in
            self?.opening.remove(id)
        }) { [weak self] opened in
            guard let self else { return }
            self.opening.remove(id)
            done(self.added(id, opened))
        }
    }

    /// - Parameter changesOrder: false for a chardev the VM is made with
    ///   (`ChardevOrder` makes QEMU's table from those when first asked).
    private func added(_ id: String, _ opened: Result<Chardev, QMPError>, changesOrder: Bool = true) -> Result<Chardev, QMPError> {
        switch opened {
        case .failure(let error):
            return .failure(.generic("Failed to add chardev '\(id)': \(error.desc)"))
        case .success(let chardev):
            if changesOrder { order.insert(id, held: chardevs.map(\.id)) }
            chardevs.append(chardev)
            return .success(chardev)
        }
    }

    /// Answers once a listening socket's file is removed (on a worker), as
    /// QEMU's reply comes after its unlink.
    func chardevRemove(_ args: QAPI.ChardevRemoveCommand, reply: Reply) {
        let id = args.id
        guard let chardev = chardev(id) else { return reply.failure(.generic("Chardev '\(id)' not found")) }
        guard !chardev.isBusy else { return reply.failure(.generic("Chardev '\(id)' is busy")) }
        order.remove(id, held: chardevs.map(\.id))
        chardevs.removeAll { $0 === chardev }
        chardev.close { reply.success(.object([:])) }
    }

    /// QEMU 7.2's `qmp_chardev_change`: a chardev no device uses is simply
    /// removed and added anew (so a failed add leaves it gone, as in QEMU);
    /// one a device uses gets the new backend only once it opened.
    func chardevChange(_ args: QAPI.ChardevChangeCommand, reply: Reply) {
        let id = args.id
        let backend = args.backend
        guard let old = chardev(id), !opening.contains(id) else { return reply.failure(.generic("Chardev '\(id)' does not exist")) }
        guard !(old.backend is MuxBackend) else { return reply.failure(.generic("Mux device hotswap not supported yet")) }
        loadModule(for: backend)
        // A mux over it, or an rng-egd object reading it, is a user that
        // cannot take another backend (QEMU 7.2: no `chr_be_change`).
        guard old.muxedBy == nil, old.frontend?.driver != RngBackend.egdType else {
            return reply.failure(.generic("Chardev user does not support chardev hotswap"))
        }
        guard old.frontend != nil else {
            order.remove(id, held: chardevs.map(\.id))
            chardevs.removeAll { $0 === old }
            // The id stays taken while the old socket file goes.
            opening.insert(id)
            old.close { [weak self] in
                guard let self else { return }
                self.opening.remove(id)
                self.addChardev(id: id, backend: backend, for: reply) { reply($0.map(ChardevPlugin.reply(for:))) }
            }
            return
        }
        opening.insert(id)
        opener.open(id: id, backend, for: reply, cancelled: { [weak self] in
            self?.opening.remove(id)
        }) { [weak self] opened in
            guard let self else { return }
            self.opening.remove(id)
            switch opened {
            case .failure(let error): reply.failure(error)
            case .success(let replacement):
                old.close()
                // Removed meanwhile (another client's device_del and
                // chardev-remove): as if the change had come first.
                guard let i = self.chardevs.firstIndex(where: { $0 === old }) else {
                    replacement.close()
                    return reply.success(ChardevPlugin.reply(for: replacement))
                }
                replacement.frontend = old.frontend
                self.chardevs[i] = replacement
                self.order.remove(id, held: self.chardevs.map(\.id))
                self.order.insert(id, held: self.chardevs.map(\.id))
                reply.success(ChardevPlugin.reply(for: replacement))
            }
        }
    }

    func chardevSendBreak(_ args: QAPI.ChardevSendBreakCommand) -> Result<JSONValue, QMPError> {
        let id = args.id
        guard chardev(id) != nil else { return .failure(.generic("Chardev '\(id)' not found")) }
        return .success(.object([:]))
    }

    func queryChardev() -> Result<JSONValue, QMPError> {
        .success(.array(order.listed(held: chardevs.map(\.id)).compactMap { id in
            chardev(id).map { c in
                ["label": .string(c.id), "filename": .string(c.backend.filename), "frontend-open": .bool(c.frontend?.isOpen ?? false)]
            }
        }))
    }

    func queryChardevBackends() -> Result<JSONValue, QMPError> {
        .success(.array(ChardevKinds.listed(loaded: loadedModules).map { ["name": .string($0)] }))
    }
}
