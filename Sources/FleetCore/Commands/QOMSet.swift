import QAPIRuntime
import QMPWire

/// `qom-set` (QEMU's `qom.json`), with the rules QEMU 7.2 applies to what
/// the host's QOM tree holds:
///
/// - user objects (`/objects/<id>`) take new values of their properties,
///   checked against the type of the value they hold, and `qom-get` reads
///   them back; a memory backend's `size` cannot change once allocated;
/// - devices and the boot vCPUs are realized, so their properties are
///   frozen: "Attempt to set property 'mac' on device 'n0' (type 'e1000')
///   after it was realized";
/// - `type` is read-only everywhere; unknown paths are DeviceNotFound and
///   unknown properties "Property 'T.P' not found", as `qom-get` says.
enum QOMSet {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QomSetCommand.self) { context, args in
            context.vm.qomSet(path: args.path, property: args.property, value: args.value)
        },
    ]

    /// `qdev_prop_set_after_realize`'s text.
    static func afterRealize(_ property: String, id: String?, type: String) -> QMPError {
        let device = id.map { "device '\($0)'" } ?? "anonymous device"
        return .generic("Attempt to set property '\(property)' on \(device) (type '\(type)') after it was realized")
    }

    /// The qobject input visitor's type check against the value held now.
    static func typeMismatch(_ property: String, current: JSONValue, new: JSONValue) -> QMPError? {
        let expected: String
        switch current {
        case .bool: if case .bool = new { return nil }; expected = "boolean"
        case .string: if case .string = new { return nil }; expected = "string"
        case .int, .uint:
            switch new { case .int, .uint: return nil; default: expected = "integer" }
        case .double:
            switch new { case .int, .uint, .double: return nil; default: expected = "number" }
        default: return nil
        }
        return .generic("Invalid parameter type for '\(property)', expected: \(expected)")
    }
}

extension VM {
    func qomSet(path: String, property: String, value: JSONValue) -> CommandResult {
        if let device = devices.devices.first(where: { $0.hasQOMPath(path) || $0.id == path }) {
            if property == "type" { return .failure(.generic("Property '\(device.driver).type' is not writable")) }
            guard device.properties[property] != nil || device.owner.deviceDrivers[device.driver]?.propertyNames.contains(property) == true else {
                return .failure(.generic("Property '\(device.driver).\(property)' not found"))
            }
            return .failure(QOMSet.afterRealize(property, id: device.id, type: device.driver))
        }
        if path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] {
            if property == "type" { return .failure(.generic("Property '\(object.type).type' is not writable")) }
            let current = object.properties[property]
            guard current != nil || object.owner.objectTypes[object.type]?.propertyNames.contains(property) == true else {
                return .failure(.generic("Property '\(object.type).\(property)' not found"))
            }
            if object.type.hasPrefix("memory-backend"), property == "size" {
                // host_memory_backend_set_size, trailing space included.
                return .failure(.generic("cannot change property size of \(object.type) "))
            }
            if let current, let mismatch = QOMSet.typeMismatch(property, current: current, new: value) {
                return .failure(mismatch)
            }
            objects[object.id]?.properties[property] = value
            return .ok
        }
        if isBootCPU(path) {
            let type = bootCPUType
            if property == "type" { return .failure(.generic("Property '\(type).type' is not writable")) }
            guard bootCPUPropertyValues[property] != nil else {
                return .failure(.generic("Property '\(type).\(property)' not found"))
            }
            return .failure(QOMSet.afterRealize(property, id: nil, type: type))
        }
        if path == "/machine" {
            let type = "\(spec.machine.type)-machine"
            if property == "type" { return .failure(.generic("Property '\(type).type' is not writable")) }
            return .failure(.generic("Property '\(type).\(property)' not found"))
        }
        return .failure(QMPError(.deviceNotFound, "Device '\(path)' not found"))
    }
}
