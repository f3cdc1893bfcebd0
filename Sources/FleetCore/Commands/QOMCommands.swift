import QMPWire

/// qom-list, qom-get and qom-list-types over the VM's QOM tree as the host
/// knows it: the machine, its peripherals (devices) and user objects.
enum QOMCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "qom-list": .immediate { context in
            let path = context.arguments["path"]?.stringValue ?? ""
            guard let children = context.vm.qomChildren(of: path) else {
                return .failure(QMPError(.deviceNotFound, "Device '\(path)' not found"))
            }
            return .success(.array(children))
        },
        "qom-get": .immediate { context in
            let path = context.arguments["path"]?.stringValue ?? ""
            let property = context.arguments["property"]?.stringValue ?? ""
            return context.vm.qomGet(path: path, property: property)
        },
        "qom-list-types": .immediate { context in
            let abstract = context.arguments["abstract"]?.boolValue ?? false
            let implements = context.arguments["implements"]?.stringValue
            return .success(.array(context.vm.qomTypes(implements: implements, includeAbstract: abstract)))
        },
    ]
}

extension VM {
    private var machineTypeName: String { "\(spec.machine.type)-machine" }

    /// The children and properties at `path`, as `ObjectPropertyInfo`s.
    func qomChildren(of path: String) -> [JSONValue]? {
        func child(_ name: String, _ type: String) -> JSONValue { ["name": .string(name), "type": .string("child<\(type)>")] }
        let typeProperty: JSONValue = ["name": "type", "type": "string"]
        switch path {
        case "/":
            return [child("machine", machineTypeName), child("objects", "container"), child("chardevs", "container"), typeProperty]
        case "/machine":
            return [child("peripheral", "container"), child("peripheral-anon", "container"), child("unattached", "container"), typeProperty]
        case "/machine/peripheral":
            return devices.devices.compactMap { d in d.id.map { child($0, d.driver) } } + [typeProperty]
        case "/machine/peripheral-anon":
            return devices.devices.filter { $0.id == nil }.map { d in child(String(d.qomPath.split(separator: "/").last ?? ""), d.driver) } + [typeProperty]
        case "/objects":
            return objects.keys.sorted().map { child($0, objects[$0]!.type) } + [typeProperty]
        case "/machine/unattached":
            return [typeProperty]
        default:
            if let device = devices.devices.first(where: { $0.qomPath == path }) {
                return [typeProperty] + device.properties.keys.map { ["name": .string($0), "type": "str"] }
            }
            if path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] {
                return [typeProperty] + object.properties.keys.map { ["name": .string($0), "type": "str"] }
            }
            return nil
        }
    }

    func qomGet(path: String, property: String) -> CommandResult {
        let properties: JSONObject
        let type: String
        if let device = devices.devices.first(where: { $0.qomPath == path || $0.id == path }) {
            properties = device.properties
            type = device.driver
        } else if path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] {
            properties = object.properties
            type = object.type
        } else if path == "/machine" {
            properties = [:]
            type = machineTypeName
        } else {
            return .failure(QMPError(.deviceNotFound, "Device '\(path)' not found"))
        }
        if property == "type" { return .success(.string(type)) }
        guard let value = properties[property] else {
            return .failure(.generic("Property '\(type).\(property)' not found"))
        }
        return .success(value)
    }

    /// The types this VM can create, from its plugins' drivers and object types.
    func qomTypes(implements: String?, includeAbstract: Bool) -> [JSONValue] {
        var result: [JSONValue] = []
        for plugin in plugins {
            for driver in plugin.library.deviceDrivers.values.sorted(by: { $0.name < $1.name }) {
                let parent = driver.description["parent"]?.stringValue
                if let implements, implements != "device", parent != implements, driver.name != implements { continue }
                var info: JSONObject = ["name": .string(driver.name)]
                if let parent { info["parent"] = .string(parent) }
                result.append(.object(info))
            }
            for type in plugin.library.objectTypes.values.sorted(by: { $0.name < $1.name }) {
                let parent = type.description["parent"]?.stringValue
                if let implements, implements != "object", parent != implements, type.name != implements { continue }
                var info: JSONObject = ["name": .string(type.name)]
                if let parent { info["parent"] = .string(parent) }
                result.append(.object(info))
            }
        }
        return result
    }
}
