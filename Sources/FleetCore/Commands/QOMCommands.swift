import QAPIRuntime
import QEMUReference
import QMPWire

/// qom-list, qom-get and qom-list-types over the VM's QOM tree as the host
/// knows it: the machine, its peripherals (devices) and user objects.
enum QOMCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QomListCommand.self) { context, args in
            let path = args.path
            guard let children = context.vm.qomChildren(of: path) else {
                return .failure(QMPError(.deviceNotFound, "Device '\(path)' not found"))
            }
            return .success(.array(children))
        },
        .immediate(QAPI.QomGetCommand.self) { context, args in
            let path = args.path
            let property = args.property
            return context.vm.qomGet(path: path, property: property)
        },
        .immediate(QAPI.QueryIothreadsCommand.self) { context, _ in
            // The VM's `iothread` objects (object-add), with QEMU's defaults
            // for what was not set; thread ids follow the vCPUs'.
            let iothreads = context.vm.objects.values.filter { $0.type == "iothread" }.sorted { $0.id < $1.id }
            return .success(.array(iothreads.enumerated().map { i, object in
                func value(_ key: String, _ fallback: Int64) -> JSONValue { object.properties[key] ?? .int(fallback) }
                return [
                    "id": .string(object.id), "thread-id": .int(Int64(context.vm.vcpuThreadIDBase + 512 + i)),
                    "poll-max-ns": value("poll-max-ns", 32768), "poll-grow": value("poll-grow", 0),
                    "poll-shrink": value("poll-shrink", 0), "aio-max-batch": value("aio-max-batch", 0),
                ]
            }))
        },
        .immediate(QAPI.QomListTypesCommand.self) { context, args in
            let abstract = args.abstract ?? false
            let implements = args.implements
            return .success(.array(context.vm.qomTypes(implements: implements, includeAbstract: abstract)))
        },
    ]
}

extension VM {
    private var machineTypeName: String { "\(spec.machine.type)-machine" }

    /// The board's default RAM backend object (`/objects/pc.ram`), if it
    /// has one (a command line's object of that id replaces it).
    var boardRAMBackend: BoardRAMBackend? { BoardRAMBackend(spec.machine) }

    /// The children and properties at `path`, as `ObjectPropertyInfo`s;
    /// `type` first, as QEMU 7.2 lists it (the children after it are in
    /// QEMU's hash table order there, not reproduced here).
    func qomChildren(of path: String) -> [JSONValue]? {
        func child(_ name: String, _ type: String) -> JSONValue { ["name": .string(name), "type": .string("child<\(type)>")] }
        let typeProperty: JSONValue = ["name": "type", "type": "string"]
        switch path {
        case "/":
            return [typeProperty, child("objects", "container"), child("machine", machineTypeName), child("chardevs", "container")]
        case "/machine":
            return machinePropertyList
                ?? [typeProperty, child("peripheral", "container"), child("peripheral-anon", "container"), child("unattached", "container")]
        case "/machine/peripheral", "/machine/peripheral-anon":
            return [typeProperty] + devices.qomChildren(named: path == "/machine/peripheral").map { child($0.childName, $0.driver) }
        case "/objects":
            return [typeProperty] + objectChildNames.compactMap { id in
                objects[id].map { child(id, $0.type) } ?? (id == boardRAMBackend?.id ? child(id, BoardRAMBackend.type) : nil)
            }
        case "/machine/unattached":
            return [typeProperty]
        default:
            if let device = devices.devices.first(where: { $0.hasQOMPath(path) }) {
                return [typeProperty] + device.properties.keys.map { ["name": .string($0), "type": "str"] }
            }
            if path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] {
                return [typeProperty] + object.properties.keys.map { ["name": .string($0), "type": "str"] }
            }
            if let ram = boardRAMBackend, path == "/objects/\(ram.id)" { return ram.properties }
            if isBootCPU(path), let properties = QEMUReferenceData.shared?.objectProperties[bootCPUType]?.arrayValue
                ?? QEMUReferenceData.shared?.objectProperties[Self.defaultBootCPUType]?.arrayValue {
                return properties
            }
            return nil
        }
    }

    /// QEMU's default x86 vCPU type.
    static let defaultBootCPUType = "qemu64-x86_64-cpu"

    /// The type of the boot vCPUs: the VM's `cpu` model (`-cpu`) when QEMU
    /// 7.2's values for it were recorded, else QEMU's default.
    var bootCPUType: String {
        guard let model = spec.machine.cpuModel else { return Self.defaultBootCPUType }
        let type = "\(model)-x86_64-cpu"
        return QEMUReferenceData.shared?.bootCPUPropertyValues(type: type) != nil ? type : Self.defaultBootCPUType
    }

    /// The boot vCPU's property values, as QEMU 7.2 reports them under TCG.
    var bootCPUPropertyValues: JSONObject {
        QEMUReferenceData.shared?.bootCPUPropertyValues(type: bootCPUType) ?? [:]
    }

    /// Whether `path` is a boot vCPU of an x86 machine (`query-cpus-fast`'s paths).
    func isBootCPU(_ path: String) -> Bool {
        guard spec.machine.arch == "x86_64", path.hasPrefix("/machine/unattached/device[") else { return false }
        return cpuInfoFast().arrayValue?.contains { $0["qom-path"]?.stringValue == path } ?? false
    }

    func qomGet(path: String, property: String) -> CommandResult {
        let properties: JSONObject
        let type: String
        if let device = devices.devices.first(where: { $0.hasQOMPath(path) || $0.id == path }) {
            properties = device.properties
            type = device.driver
        } else if path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] {
            properties = object.properties
            type = object.type
        } else if let ram = boardRAMBackend, path == "/objects/\(ram.id)" {
            properties = ram.values
            type = BoardRAMBackend.type
        } else if path == "/machine" {
            if property != "type", let value = machineProperty(property) { return .success(value) }
            properties = [:]
            type = machineTypeName
        } else if isBootCPU(path) {
            // As QEMU 7.2 reports them for its boot vCPU (recorded): under
            // TCG every feature of the model is available.
            properties = bootCPUPropertyValues
            type = bootCPUType
        } else {
            return .failure(QMPError(.deviceNotFound, "Device '\(path)' not found"))
        }
        if property == "type" { return .success(.string(type)) }
        guard let value = properties[property] else {
            return .failure(.generic("Property '\(type).\(property)' not found"))
        }
        return .success(value)
    }

    /// QEMU 7.2's types (recorded), less the devices a plugin simulates
    /// that this VM lacks, then its plugins' own types. Management software
    /// reads capabilities from this list (libvirt: `tcg-accel`, device
    /// models). `implements` follows the parent chain and QEMU's recorded
    /// interface implementers.
    func qomTypes(implements: String?, includeAbstract: Bool) -> [JSONValue] {
        var result: [JSONValue] = []
        var listed = Set<String>()
        if let data = QEMUReferenceData.shared {
            let simulated = owner.simulatedDeviceTypes
            for type in data.qomTypes {
                guard let name = type["name"]?.stringValue else { continue }
                if type["abstract"]?.boolValue == true && !includeAbstract { continue }
                if simulated.contains(name) && !plugins.contains(where: { $0.library.deviceDrivers[name] != nil }) { continue }
                if let implements, !data.isA(name, implements) { continue }
                listed.insert(name)
                result.append(type)
            }
        }
        // QEMU 7.2's x86_64 list is complete: plugin types beyond it belong
        // to other targets (tpm-tis-device, Arm and POWER CPUs).
        if spec.machine.arch == "x86_64", QEMUReferenceData.shared != nil { return result }
        for plugin in plugins {
            for driver in plugin.library.deviceDrivers.values.sorted(by: { $0.name < $1.name }) where !listed.contains(driver.name) {
                let parent = driver.description["parent"]?.stringValue
                if let implements, implements != "device", parent != implements, driver.name != implements { continue }
                var info: JSONObject = ["name": .string(driver.name)]
                if let parent { info["parent"] = .string(parent) }
                result.append(.object(info))
            }
            for type in plugin.library.objectTypes.values.sorted(by: { $0.name < $1.name }) where !listed.contains(type.name) {
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
