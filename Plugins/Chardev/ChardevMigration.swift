#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The chardev plugin's part of a live migration.
///
/// As in QEMU, a backend is the host's, not the guest's: a chardev the
/// target already has keeps its own backend (its own pty, socket, file).
/// What moves is the guest side: which chardevs exist and which device
/// uses each (serial consoles, virtio serial controllers and ports, and
/// whether the guest has a port open), the boot state, and a ring
/// buffer's unread bytes. A chardev only the source has is created on the
/// target from the backend it was made with (a file is then appended to,
/// not truncated; its files and a client socket open off the loop, an
/// open that fails there is logged, `PendingBackend`); a listening socket
/// cannot be (its path is the source's), and fails the migration.
/// Chardevs only the target has go.
/// Version 1 of the format.
extension ChardevPlugin: MigratablePlugin {
    static let migrationVersion: Int64 = 1

    func saveState() -> JSONValue {
        let states: [JSONValue] = chardevs.map { chardev in
            var state: JSONObject = ["id": .string(chardev.id), "spec": chardev.spec.qapiValue]
            if let frontend = chardev.frontend {
                var f: JSONObject = ["driver": .string(frontend.driver), "open": .bool(frontend.isOpen)]
                if let id = frontend.deviceID { f["device"] = .string(id) }
                state["frontend"] = .object(f)
            }
            if let ring = chardev.backend as? RingbufBackend { state["ring"] = .string(Base64.encode(ring.unread)) }
            return .object(state)
        }
        return [
            "version": .int(ChardevPlugin.migrationVersion), "chardevs": .array(states),
            "serials": .array(serialIDs.map { .string($0) }),
            "controllers": .array(controllers.map { c in
                var state: JSONObject = ["bus": .string(c.busName), "qom-path": .string(c.qomPath), "max-ports": .int(Int64(c.maxPorts))]
                if let id = c.id { state["id"] = .string(id) }
                return .object(state)
            }),
            "ports": .array(ports.map { p in
                var state: JSONObject = ["driver": .string(p.driver), "bus": .string(p.busName), "console": .bool(p.isConsole),
                                         "guest-open": .bool(p.guestOpen), "qom-path": .string(p.qomPath), "nr": .int(Int64(p.number))]
                if let id = p.id { state["id"] = .string(id) }
                if let name = p.name { state["name"] = .string(name) }
                if let chardev = p.chardevID { state["chardev"] = .string(chardev) }
                return .object(state)
            }),
            "anonymous-controllers": .int(Int64(anonymousControllers)), "booted": .bool(hasBooted),
            "rng-backends": .array(savedRngBackends()),
            "rng-devices": .array(rngDevices.map { d in
                var state: JSONObject = ["qom-path": .string(d.qomPath)]
                if let id = d.id { state["id"] = .string(id) }
                if let backend = d.backend { state["backend"] = .string(backend.id) }
                return .object(state)
            }),
        ]
    }

    /// Every rng backend, those object-del'd that a device still reads included.
    private func savedRngBackends() -> [JSONValue] {
        var backends = Array(rngBackends.values)
        for device in rngDevices {
            if let backend = device.backend, !backends.contains(where: { $0 === backend }) { backends.append(backend) }
        }
        return backends.sorted { $0.id < $1.id }.map { b in
            var state: JSONObject = ["id": .string(b.id), "type": .string(b.type), "deleted": .bool(b.isDeleted)]
            if let filename = b.filename { state["filename"] = .string(filename) }
            if let chardev = b.chardev { state["chardev"] = .string(chardev.id) }
            return .object(state)
        }
    }

    /// The rng backends and devices: an `rng-random` reopens its file on
    /// the target (off the loop), an `rng-egd` takes the target's chardev
    /// of the same id, which moved with the chardevs above.
    private func loadRng(_ state: JSONValue) {
        var loaded: [String: RngBackend] = [:]
        for entry in state["rng-backends"]?.arrayValue ?? [] {
            guard let id = entry["id"]?.stringValue, let type = entry["type"]?.stringValue else { continue }
            let backend = RngBackend(id: id, type: type, filename: entry["filename"]?.stringValue,
                                     chardev: entry["chardev"]?.stringValue.flatMap { chardev($0) })
            backend.isDeleted = entry["deleted"]?.boolValue ?? false
            if let path = backend.filename {
                vm.openFile(path, flags: O_RDONLY, for: nil) { [vm] opened in
                    switch opened {
                    case .success(let fd): backend.attach(fd)
                    case .failure(let error): vm.log(.error, "rng-random '\(id)': \(error.desc)")
                    }
                }
            }
            loaded[id] = backend
        }
        rngDevices = (state["rng-devices"]?.arrayValue ?? []).map {
            let backend = $0["backend"]?.stringValue.flatMap { loaded[$0] }
            backend?.users += 1
            return VirtioRNGDevice(id: $0["id"]?.stringValue, qomPath: Self.migratedQOMPath($0), backend: backend)
        }
        rngBackends = loaded.filter { !$0.value.isDeleted }
    }

    func loadState(_ state: JSONValue) throws(PluginError) {
        guard let version = state["version"]?.int64Value, (1...ChardevPlugin.migrationVersion).contains(version) else {
            throw PluginError("chardev: unsupported state version \(state["version"]?.jsonText ?? "none")")
        }
        let saved = state["chardevs"]?.arrayValue ?? []
        // Check first: nothing changes when a chardev cannot move, or when
        // the stream brings more than `chardev-add` and `device_add` may.
        typealias Bounds = MigratedStateBounds
        try Bounds.check(saved.count, atMost: Self.chardevsPerVM, "chardevs", plugin: "chardev")
        try Bounds.check(state["controllers"]?.arrayValue?.count ?? 0, atMost: Bounds.sharePerVM,
                         "virtio-serial controllers", plugin: "chardev")
        try Bounds.check(state["ports"]?.arrayValue?.count ?? 0, atMost: Bounds.sharePerVM, "virtio-serial ports", plugin: "chardev")
        try Bounds.checkUnique(saved.lazy.map { $0["id"]?.stringValue ?? "" }, "chardev", plugin: "chardev")
        for entry in saved {
            guard let id = entry["id"]?.stringValue else { throw PluginError("chardev: a chardev without id") }
            if chardev(id) == nil, case .socket(let socket) = try Self.spec(entry, id).variant, socket.data.server ?? false {
                throw PluginError("chardev '\(id)': a listening socket cannot move; give the target its own chardev '\(id)'")
            }
        }
        // The target's own rng backends go before its chardevs' users are set.
        for backend in rngBackends.values { backend.release() }
        for device in rngDevices { device.backend?.release() }
        var kept: [Chardev] = []
        for entry in saved {
            let id = entry["id"]?.stringValue ?? ""
            let chardev: Chardev
            if let existing = self.chardev(id) {
                chardev = existing
            } else {
                var spec = try Self.spec(entry, id)
                if case .file(var file) = spec.variant {
                    file.data.append = true
                    spec.variant = .file(file)
                }
                // A mux's base comes before it in the saved order.
                let kept = kept
                let opener = ChardevOpener(vm: vm, find: { [weak self] base in kept.first { $0.id == base } ?? self?.chardev(base) })
                switch opener.openDeferred(id: id, spec) {
                case .failure(let error): throw PluginError("chardev '\(id)': \(error.desc)")
                case .success(let opened): chardev = opened
                }
            }
            if let f = entry["frontend"] {
                chardev.frontend = ChardevFrontend(deviceID: f["device"]?.stringValue, driver: f["driver"]?.stringValue ?? "",
                                                   isOpen: f["open"]?.boolValue ?? false)
            } else {
                chardev.frontend = nil
            }
            if let text = entry["ring"]?.stringValue, let ring = chardev.backend as? RingbufBackend,
               case .success(let bytes) = Base64.decode(text) {
                _ = ring.read(ring.count)
                ring.write(bytes)
            }
            kept.append(chardev)
        }
        for chardev in chardevs where !kept.contains(where: { $0 === chardev }) { chardev.close() }
        chardevs = kept
        // The target made them afresh, in the source's creation order.
        order = ChardevOrder()
        serialIDs = (state["serials"]?.arrayValue ?? []).compactMap(\.stringValue)
        controllers = (state["controllers"]?.arrayValue ?? []).map {
            let maxPorts = $0["max-ports"]?.int64Value.flatMap(UInt32.init(exactly:)) ?? VirtioSerialController.defaultPorts
            return VirtioSerialController(id: $0["id"]?.stringValue, qomPath: Self.migratedQOMPath($0), busName: $0["bus"]?.stringValue ?? "",
                                          maxPorts: min(max(maxPorts, 1), VirtioSerialController.maximumPorts))
        }
        ports = (state["ports"]?.arrayValue ?? []).map {
            let isConsole = $0["console"]?.boolValue ?? false
            let busName = $0["bus"]?.stringValue ?? ""
            // A source before session 11 sent no numbers: consoles had 0, ports none taken.
            let number = $0["nr"]?.int64Value.flatMap(UInt32.init(exactly:)) ?? (isConsole ? 0 : VirtioSerialController.unassigned)
            let port = VirtioSerialPort(id: $0["id"]?.stringValue, qomPath: Self.migratedQOMPath($0), driver: $0["driver"]?.stringValue ?? "",
                                        busName: busName, chardevID: $0["chardev"]?.stringValue, isConsole: isConsole,
                                        number: number, name: $0["name"]?.stringValue)
            port.guestOpen = $0["guest-open"]?.boolValue ?? false
            if number != VirtioSerialController.unassigned { controllers.first { $0.busName == busName }?.take(number) }
            return port
        }
        anonymousControllers = Int(clamping: state["anonymous-controllers"]?.int64Value ?? 0)
        // The guest has booted on the source: no second boot log here.
        hasBooted = state["booted"]?.boolValue ?? hasBooted
        loadRng(state)
    }
}

extension ChardevPlugin {
    /// A migrated chardev's backend, as chardev-add's decoder reads it.
    static func spec(_ entry: JSONValue, _ id: String) throws(PluginError) -> QAPI.ChardevBackend {
        try ChardevConfig.decode(entry["spec"]?.objectValue ?? [:], "chardev '\(id)'")
    }

    /// A migrated device's QOM path; a source before "qom-path" sent only the id.
    static func migratedQOMPath(_ state: JSONValue) -> String {
        state["qom-path"]?.stringValue ?? state["id"]?.stringValue.map { "/machine/peripheral/\($0)" } ?? ""
    }
}
