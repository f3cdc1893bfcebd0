import QAPIRuntime
import QEMUReference
import QMPWire

/// The queries management software probes an emulator with, answered from
/// QEMU 7.2's recorded replies (`QEMUReferenceData`): what the binary
/// offers, not what a VM holds.
///
/// A device type a plugin simulates is offered only to VMs that have that
/// plugin; board and host devices no plugin models (VGA, PIIX4_PM, vfio-pci)
/// are described as QEMU describes them, so probes see a complete binary.
enum ProbeCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.DeviceListPropertiesCommand.self) { context, args in
            withData { data in deviceProperties(context.vm, data, args.typename) }
        },
        .immediate(QAPI.QomListPropertiesCommand.self) { context, args in
            withData { data in
                let name = args.typename
                let notFound = QMPError(.deviceNotFound, "Class '\(name)' not found")
                let present = context.vm.pluginProviding(driver: name) != nil && context.vm.offersDevice(name, data)
                // A device a plugin simulates exists only where that plugin is.
                if !present && context.vm.owner.simulatedDeviceTypes.contains(name) { return .failure(notFound) }
                if let properties = data.objectProperties[name] { return .success(properties) }
                if present { return .success(context.vm.pluginDeviceProperties(name)) }
                return .failure(notFound)
            }
        },
        .immediate(QAPI.QueryCpuDefinitionsCommand.self) { _, _ in withData { .success($0.cpuDefinitions) } },
        .immediate(QAPI.QueryCpuModelExpansionCommand.self) { context, args in
            // Arm expands only fully (target/arm/arm-qmp-cmds.c).
            if context.vm.spec.machine.arch == "aarch64", args.type != .full {
                return .failure(.generic("The requested expansion type is not supported"))
            }
            return withData { data in CPUModelExpansion.expand(data, args, asked: context.arguments) }
        },
        .immediate(QAPI.QuerySevCapabilitiesCommand.self) { _, _ in withData { QEMUReferenceData.result($0.replies["query-sev-capabilities"]) } },
        .immediate(QAPI.QuerySgxCapabilitiesCommand.self) { _, _ in withData { QEMUReferenceData.result($0.replies["query-sgx-capabilities"]) } },
        .immediate(QAPI.QueryCommandLineOptionsCommand.self) { context, args in
            withData { data in
                let option = args.option
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
            if isType && !vm.owner.simulatedDeviceTypes.contains(name) {
                return .failure(.generic("Parameter 'typename' expects a non-abstract device type"))
            }
            return .failure(.deviceNotFound(name))
        }
        if let recorded = data.deviceProperties[name], case .array = recorded { return .success(recorded) }
        // A plugin's own device QEMU 7.2 does not have: its declared properties.
        return .success(vm.pluginDeviceProperties(name))
    }
}

extension VM {
    /// Whether this VM's binary would have device type `name`: one of its
    /// plugins simulates it, or it is a device no plugin simulates that
    /// QEMU 7.2 has.
    func offersDevice(_ name: String, _ data: QEMUReferenceData) -> Bool {
        // The recorded types are the whole x86_64 binary: a plugin's device
        // for another target (tpm-tis-device, Arm and POWER CPUs) is not in it.
        if spec.machine.arch == "x86_64", !data.typeNames.contains(name) { return false }
        if plugins.contains(where: { $0.library.deviceDrivers[name] != nil }) { return true }
        if owner.simulatedDeviceTypes.contains(name) { return false }
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

extension QEMUReferenceData {
    /// A recorded reply (`{"return": ...}` or `{"error": ...}`) as a result.
    static func result(_ reply: JSONValue?) -> CommandResult {
        if let value = reply?["return"] { return .success(value) }
        if let error = reply?["error"], let desc = error["desc"]?.stringValue {
            let errorClass = error["class"]?.stringValue.flatMap(QMPErrorClass.init(rawValue:)) ?? .genericError
            return .failure(QMPError(errorClass, desc))
        }
        return .failure(.generic("no recorded QEMU 7.2 reply"))
    }
}
