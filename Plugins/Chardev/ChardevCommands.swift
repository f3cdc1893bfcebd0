import QMPPluginKit
import QMPWire

/// chardev-add, chardev-remove, chardev-change, chardev-send-break,
/// query-chardev and query-chardev-backends, with QEMU 7.2's texts.
extension ChardevPlugin {
    func chardev(_ id: String) -> Chardev? { chardevs.first { $0.id == id } }

    static func reply(for chardev: Chardev) -> JSONValue {
        var reply: JSONObject = [:]
        if let pty = chardev.backend.ptyPath { reply["pty"] = .string(pty) }
        return .object(reply)
    }

    func chardevAdd(_ args: QAPI.ChardevAddCommand) -> Result<JSONValue, QMPError> {
        addChardev(id: args.id, backend: args.backend).map(ChardevPlugin.reply(for:))
    }

    /// Shared by chardev-add, the config and chardev-change's easy case.
    func addChardev(id: String, backend: QAPI.ChardevBackend) -> Result<Chardev, QMPError> {
        guard chardev(id) == nil else { return .failure(.generic("Chardev with id '\(id)' already exists")) }
        switch ChardevOpener(vm: vm).open(id: id, backend) {
        case .failure(let error):
            return .failure(.generic("Failed to add chardev '\(id)': \(error.desc)"))
        case .success(let chardev):
            chardevs.append(chardev)
            return .success(chardev)
        }
    }

    func chardevRemove(_ args: QAPI.ChardevRemoveCommand) -> Result<JSONValue, QMPError> {
        let id = args.id
        guard let chardev = chardev(id) else { return .failure(.generic("Chardev '\(id)' not found")) }
        guard chardev.frontend == nil else { return .failure(.generic("Chardev '\(id)' is busy")) }
        chardevs.removeAll { $0 === chardev }
        chardev.close()
        return .success(.object([:]))
    }

    /// QEMU 7.2's `qmp_chardev_change`: a chardev no device uses is simply
    /// removed and added anew (so a failed add leaves it gone, as in QEMU);
    /// one a device uses gets the new backend only once it opened.
    func chardevChange(_ args: QAPI.ChardevChangeCommand) -> Result<JSONValue, QMPError> {
        let id = args.id
        let backend = args.backend
        guard let old = chardev(id) else { return .failure(.generic("Chardev '\(id)' does not exist")) }
        guard let frontend = old.frontend else {
            chardevs.removeAll { $0 === old }
            old.close()
            return addChardev(id: id, backend: backend).map(ChardevPlugin.reply(for:))
        }
        let replacement: Chardev
        switch ChardevOpener(vm: vm).open(id: id, backend) {
        case .failure(let error): return .failure(error)
        case .success(let opened): replacement = opened
        }
        old.close()
        replacement.frontend = frontend
        if let i = chardevs.firstIndex(where: { $0 === old }) { chardevs[i] = replacement }
        return .success(ChardevPlugin.reply(for: replacement))
    }

    func chardevSendBreak(_ args: QAPI.ChardevSendBreakCommand) -> Result<JSONValue, QMPError> {
        let id = args.id
        guard chardev(id) != nil else { return .failure(.generic("Chardev '\(id)' not found")) }
        return .success(.object([:]))
    }

    func queryChardev() -> Result<JSONValue, QMPError> {
        .success(.array(chardevs.map { c in
            ["label": .string(c.id), "filename": .string(c.backend.filename), "frontend-open": .bool(c.frontend?.isOpen ?? false)]
        }))
    }

    func queryChardevBackends() -> Result<JSONValue, QMPError> {
        .success(.array(ChardevOpener.supportedKinds.map { ["name": .string($0)] }))
    }
}
