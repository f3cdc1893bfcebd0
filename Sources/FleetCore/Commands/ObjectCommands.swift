import PluginHost
import QAPIRuntime
import QMPWire

/// object-add / object-del for the user-creatable QOM types plugins provide
/// (memory backends, secrets, iothreads...).
enum ObjectCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .deferred(QAPI.ObjectAddCommand.self, add),
        .deferred(QAPI.ObjectDelCommand.self, delete),
    ]

    /// The type's properties are the request's other members, as given.
    static func add(_ context: CommandContext, _ args: QAPI.ObjectAddCommand, _ complete: @escaping (CommandResult) -> Void) {
        let vm = context.vm
        let type = args.qomType.rawValue
        let id = args.id
        guard let (plugin, objectType) = vm.pluginProviding(objectType: type) else {
            complete(.failure(.generic("Parameter 'qom-type' does not accept value '\(type)'")))
            return
        }
        guard QEMUIdentifier.isWellFormed(id) else {
            complete(.failure(.generic("Parameter 'id' expects an identifier")))
            return
        }
        // A command line's own RAM object (libvirt's `-object
        // memory-backend-ram,id=pc.ram` for `-machine memory-backend=pc.ram`)
        // takes the place of the board's default one.
        let isBoardRAM = vm.boardRAMBackend?.id == id && !vm.coldPlugging
        guard vm.objects[id] == nil, !vm.objectIDsBeingAdded.contains(id), !isBoardRAM else {
            complete(.failure(.generic("attempt to add duplicate property '\(id)' to object (type 'container')")))
            return
        }
        // QEMU 7.2 sets no bound and so has no text for it: the error names the limit.
        let limit = vm.owner.limits.objectsPerVM
        guard vm.objects.count + vm.objectIDsBeingAdded.count < limit else {
            complete(.failure(.generic("VM '\(vm.name)' holds \(limit) objects already (limit objects-per-vm)")))
            return
        }
        var properties = JSONObject()
        for (key, value) in context.arguments where key != "qom-type" && key != "id" {
            // QEMU 2.x nested properties under "props"; accept both shapes.
            if key == "props", case .object(let nested) = value {
                for (k, v) in nested { properties[k] = v }
                continue
            }
            guard objectType.propertyNames.contains(key) else {
                complete(.failure(.generic("Parameter '\(key)' is unexpected")))
                return
            }
            properties[key] = value
        }
        vm.objectIDsBeingAdded.insert(id)
        plugin.add(with: objectType, command: "object-add", id: id, properties: properties) { [weak vm] result in
            vm?.objectIDsBeingAdded.remove(id)
            guard case .success(let reported) = result else { return complete(result) }
            // A type may answer with the values QEMU's qom-get reads of the
            // new object (its defaults, what it derived from the members):
            // they are its properties from then on. The client gets {}, as
            // from QEMU.
            var values = properties
            for (key, value) in reported.objectValue ?? [:] { values[key] = value }
            vm?.objects[id] = QOMObject(id: id, type: type, properties: values, owner: plugin.library)
            vm?.objectAdded(id)
            complete(.success(.object([:])))
        }
    }

    static func delete(_ context: CommandContext, _ args: QAPI.ObjectDelCommand, _ complete: @escaping (CommandResult) -> Void) {
        let vm = context.vm
        let id = args.id
        if vm.boardRAMBackend?.id == id {
            complete(.failure(.generic("object '\(id)' is in use, can not be deleted")))
            return
        }
        guard let object = vm.objects[id],
              let plugin = vm.plugins.first(where: { $0.library === object.owner }),
              let type = object.owner.objectTypes[object.type]
        else {
            complete(.failure(.generic("object '\(id)' not found")))
            return
        }
        plugin.delete(with: type, command: "object-del", id: id) { [weak vm] result in
            if case .success = result {
                vm?.objects[id] = nil
                vm?.objectRemoved(id)
            }
            complete(result)
        }
    }
}

/// A user-created QOM object (`/objects/<id>`).
public struct QOMObject {
    public let id: String
    public let type: String
    /// What object-add set, then what qom-set changed.
    public internal(set) var properties: JSONObject
    public let owner: PluginLibrary
}
