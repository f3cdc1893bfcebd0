import PluginHost
import QAPIRuntime
import QMPPluginABI
import QMPWire

/// Live migration's host side: the device state of a VM's plugins, out of
/// one VM and into another (possibly in another process), and the run
/// states QEMU's migration code moves a VM through.
///
/// The stream itself is the migration plugin's; the host only gathers and
/// scatters what each plugin saves with its `vm_save_state`, together with
/// the qdev/QOM bookkeeping the host keeps for that plugin's devices and
/// objects, so that `device_del`, `qom-list` and `object-del` on the target
/// see what the source had. A plugin without the hook migrates nothing of
/// its own: the target keeps what its own config gave it.
extension VM {
    /// The version of the object `saveDeviceState` builds; `loadDeviceState`
    /// takes this one and older.
    static let deviceStateVersion: Int64 = 1

    /// `{"version": 1, "plugins": {name: state}, "host": {...}}`, or why not.
    package func saveDeviceState() -> Result<JSONValue, QMPError> {
        var states = JSONObject()
        var devices: [JSONValue] = []
        var objects: [JSONValue] = []
        for instance in plugins {
            guard let saved = instance.saveState() else { continue }
            switch saved {
            case .failure(let error): return .failure(error)
            case .success(let state): states[instance.library.name] = state
            }
            devices += self.devices.devices.filter { $0.owner === instance.library }.map(\.migrationState)
            objects += self.objects.keys.sorted().compactMap { id in
                self.objects[id].flatMap { $0.owner === instance.library ? $0.migrationState : nil }
            }
        }
        let host: JSONObject = [
            "devices": .array(devices), "objects": .array(objects),
            "anonymous-devices": .int(Int64(self.devices.anonymousDeviceCount)),
        ]
        return .success(["version": .int(VM.deviceStateVersion), "plugins": .object(states), "host": .object(host)])
    }

    /// Loads what `saveDeviceState` produced on the source. Checked whole
    /// before anything changes: every section must name a plugin this VM
    /// has that can load state (QEMU's "Unknown savevm section").
    package func loadDeviceState(_ saved: JSONValue) -> Result<Void, QMPError> {
        guard let version = saved["version"]?.int64Value, (1...VM.deviceStateVersion).contains(version),
              let states = saved["plugins"]?.objectValue else {
            return .failure(.generic("unsupported device state (version \(saved["version"]?.jsonText ?? "none"))"))
        }
        var targets: [(PluginInstance, JSONValue)] = []
        for (name, state) in states {
            guard let instance = plugins.first(where: { $0.library.name == name }), instance.library.loadState != nil else {
                return .failure(.generic("Unknown savevm section or instance '\(name)' 0. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices"))
            }
            targets.append((instance, state))
        }
        let host = saved["host"]?.objectValue ?? [:]
        if let refusal = Self.boundsRefusal(host: host, limits: owner.limits) { return .failure(refusal) }
        for (instance, state) in targets {
            if case .failure(let error) = instance.loadState(state) { return .failure(error) }
            let library = instance.library
            let devices = (host["devices"]?.arrayValue ?? []).compactMap { Device(migrationState: $0, owner: library) }
            let anonymous = Int(clamping: host["anonymous-devices"]?.int64Value ?? 0)
            self.devices.replaceDevices(of: library, with: devices, anonymousCount: anonymous)
            for (id, object) in objects where object.owner === library {
                objects[id] = nil
                objectRemoved(id)
            }
            for value in host["objects"]?.arrayValue ?? [] {
                guard let object = QOMObject(migrationState: value, owner: library) else { continue }
                objects[object.id] = object
                objectAdded(object.id)
            }
        }
        return .success(())
    }

    /// The host's lists in a stream, against the bounds `device_add` and
    /// `object-add` keep to (a stream is input as a request is: see
    /// `MigratedStateBounds`), and one device per id and QOM path: nil
    /// when they hold.
    static func boundsRefusal(host: JSONObject, limits: Limits) -> QMPError? {
        let devices = host["devices"]?.arrayValue ?? [], objects = host["objects"]?.arrayValue ?? []
        if devices.count > limits.devicesPerVM {
            return .generic("the incoming state holds \(devices.count) devices, more than the \(limits.devicesPerVM) of devices-per-vm")
        }
        if objects.count > limits.objectsPerVM {
            return .generic("the incoming state holds \(objects.count) objects, more than the \(limits.objectsPerVM) of objects-per-vm")
        }
        var ids = Set<String>(), paths = Set<String>()
        for device in devices {
            if let id = device["id"]?.stringValue, !ids.insert(id).inserted {
                return .generic("the incoming state names device '\(id)' twice")
            }
            if let path = device["qom-path"]?.stringValue, !paths.insert(path).inserted {
                return .generic("the incoming state places two devices at '\(path)'")
            }
        }
        return nil
    }

    /// A run-state change made by migration: leaving `running` is
    /// `vm_stop_force_state` (STOP), entering it `vm_start` (RESUME), and
    /// anything else `runstate_set` (silent).
    func setMigrationRunState(_ state: RunState) {
        guard state != runState else { return }
        if state == .running {
            setRunState(.running)
            events.emit(QAPI.ResumeEvent())
        } else if runState.isRunning {
            stop(to: state)
        } else {
            setRunState(state)
        }
    }
}

extension Device {
    var migrationState: JSONValue {
        var state: JSONObject = ["driver": .string(driver), "qom-path": .string(qomPath), "owner": .string(owner.name),
                                 "properties": .object(properties), "unplug-pending": .bool(unplugPending)]
        if let id { state["id"] = .string(id) }
        if let bus { state["bus"] = .string(bus) }
        if let pciAddress { state["pci-addr"] = .string(pciAddress.description) }
        return .object(state)
    }

    /// A device of `owner`'s from the source; nil for another plugin's.
    init?(migrationState state: JSONValue, owner: PluginLibrary) {
        guard state["owner"]?.stringValue == owner.name, let driver = state["driver"]?.stringValue,
              let qomPath = state["qom-path"]?.stringValue else { return nil }
        self.init(id: state["id"]?.stringValue, driver: driver, qomPath: qomPath, bus: state["bus"]?.stringValue,
                  properties: state["properties"]?.objectValue ?? [:], owner: owner,
                  unplugPending: state["unplug-pending"]?.boolValue ?? false,
                  pciAddress: state["pci-addr"].flatMap { try? PCIAddress.parse(property: $0).get() })
    }
}

extension QOMObject {
    var migrationState: JSONValue {
        ["id": .string(id), "type": .string(type), "owner": .string(owner.name), "properties": .object(properties)]
    }

    /// An object of `owner`'s from the source; nil for another plugin's.
    init?(migrationState state: JSONValue, owner: PluginLibrary) {
        guard state["owner"]?.stringValue == owner.name, let id = state["id"]?.stringValue,
              let type = state["type"]?.stringValue else { return nil }
        self.init(id: id, type: type, properties: state["properties"]?.objectValue ?? [:], owner: owner)
    }
}
