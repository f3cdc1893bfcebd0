import QMPWire

/// The queries management software probes an emulator with, answered from
/// QEMU 7.2's recorded replies (`QEMUReferenceData`): what the binary
/// offers, not what a VM holds.
///
/// A device type a plugin simulates is offered only to VMs that have that
/// plugin; board and host devices no plugin models (VGA, PIIX4_PM, vfio-pci)
/// are described as QEMU describes them, so probes see a complete binary.
enum ProbeCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "device-list-properties": .immediate { context in
            withData { data in deviceProperties(context.vm, data, context.arguments["typename"]?.stringValue ?? "") }
        },
        "qom-list-properties": .immediate { context in
            withData { data in
                let name = context.arguments["typename"]?.stringValue ?? ""
                if let properties = data.objectProperties[name] { return .success(properties) }
                if context.vm.offersDevice(name, data) { return deviceProperties(context.vm, data, name) }
                return .failure(QMPError(.deviceNotFound, "Class '\(name)' not found"))
            }
        },
        "query-cpu-definitions": .immediate { _ in withData { .success($0.cpuDefinitions) } },
        "query-cpu-model-expansion": .immediate { context in
            withData { data in cpuModelExpansion(data, context.arguments) }
        },
        "query-sev-capabilities": .immediate { _ in withData { QEMUReferenceData.result($0.replies["query-sev-capabilities"]) } },
        "query-sgx-capabilities": .immediate { _ in withData { QEMUReferenceData.result($0.replies["query-sgx-capabilities"]) } },
        "query-command-line-options": .immediate { context in
            withData { data in
                let option = context.arguments["option"]?.stringValue
                let selected = data.commandLineOptions.filter { option == nil || $0["option"]?.stringValue == option }
                if let option, selected.isEmpty { return .failure(.generic("invalid option name: \(option)")) }
                return .success(.array(selected))
            }
        },
    ]

    static func withData(_ body: (QEMUReferenceData) -> CommandResult) -> CommandResult {
        guard let data = QEMUReferenceData.shared else {
            return .failure(.generic("qmpfleet: QEMU 7.2 reference data (qemu-7.2/probe.json) is missing from the installation"))
        }
        return body(data)
    }

    static func deviceProperties(_ vm: VM, _ data: QEMUReferenceData, _ name: String) -> CommandResult {
        guard vm.offersDevice(name, data) else {
            let isType = data.qomTypes.contains { $0["name"]?.stringValue == name }
            if isType && !vm.router.plugins.simulatedDeviceTypes.contains(name) {
                return .failure(.generic("Parameter 'typename' expects a non-abstract device type"))
            }
            return .failure(.deviceNotFound(name))
        }
        if let recorded = data.deviceProperties[name], case .array = recorded { return .success(recorded) }
        // A plugin's own device QEMU 7.2 does not have: its declared properties.
        return .success(vm.pluginDeviceProperties(name))
    }

    /// The recorded expansion for these arguments, else for the same type
    /// and model without `props` (which QEMU applies on top), else QEMU's
    /// "not found" for a model it does not know.
    static func cpuModelExpansion(_ data: QEMUReferenceData, _ arguments: JSONObject) -> CommandResult {
        let asked = JSONValue.object(arguments)
        if let exact = data.cpuModelExpansions.first(where: { $0.arguments == asked }) {
            return QEMUReferenceData.result(exact.reply)
        }
        let type = arguments["type"]?.stringValue
        let name = arguments["model"]?["name"]?.stringValue ?? ""
        guard let base = data.cpuModelExpansions.first(where: {
            $0.arguments["type"]?.stringValue == type && $0.arguments["model"]?["name"]?.stringValue == name && $0.arguments["model"]?["props"] == nil
        }) else {
            let known = data.cpuDefinitions.arrayValue?.contains { $0["name"]?.stringValue == name } ?? false
            return known
                ? .failure(.generic("qmpfleet has no recorded \(type ?? "") expansion of CPU model '\(name)'"))
                : .failure(.generic("CPU model '\(name)' not found"))
        }
        guard case .success(let value) = QEMUReferenceData.result(base.reply),
              case .object(var result) = value, case .object(var model)? = result["model"],
              case .object(let extra)? = arguments["model"]?["props"] else {
            return QEMUReferenceData.result(base.reply)
        }
        var props = model["props"]?.objectValue ?? [:]
        for (key, value) in extra.members where props[key] != nil { props[key] = value }
        model["props"] = .object(props)
        result["model"] = .object(model)
        return .success(.object(result))
    }
}

extension VM {
    /// Whether this VM's binary would have device type `name`: one of its
    /// plugins simulates it, or it is a device no plugin simulates that
    /// QEMU 7.2 has.
    func offersDevice(_ name: String, _ data: QEMUReferenceData) -> Bool {
        if plugins.contains(where: { $0.library.deviceDrivers[name] != nil }) { return true }
        if router.plugins.simulatedDeviceTypes.contains(name) { return false }
        if case .array? = data.deviceProperties[name] { return true }
        return false
    }

    /// `ObjectPropertyInfo`s of a plugin device from its registration.
    func pluginDeviceProperties(_ name: String) -> JSONValue {
        for plugin in plugins {
            if let driver = plugin.library.deviceDrivers[name] {
                return driver.description["properties"] ?? .array([])
            }
        }
        return .array([])
    }
}
