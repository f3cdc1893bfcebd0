import QAPIRuntime
import QMPWire

/// device_add / device_del: the host checks what qdev checks (driver, id,
/// property names), places a PCI device on the VM's root bus (`PCIBus`:
/// its `addr` and `multifunction` are the bus's, whatever the plugin
/// lists) and the plugin that owns the driver does the rest.
enum DeviceCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .deferred(QAPI.DeviceAddCommand.self, add),
        .deferred(QAPI.DeviceDelCommand.self, delete),
    ]

    /// Members of device_add's arguments that are not device properties.
    private static let hostMembers: Set<String> = ["driver", "bus", "id"]
    /// The properties every PCI device has (QEMU's `pci_props`) that the bus acts on.
    private static let pciMembers: Set<String> = ["addr", "multifunction"]

    /// `device_add` takes any member besides `driver`, `bus` and `id` (QEMU
    /// declares it without `gen`): those are the device's properties, read
    /// from the request's members as given.
    static func add(_ context: CommandContext, _ args: QAPI.DeviceAddCommand, _ complete: @escaping (CommandResult) -> Void) {
        let vm = context.vm
        let members = context.arguments
        let driverName = args.driver
        let id = args.id
        // QEMU reads the arguments as QemuOpts first, whose id must be well formed.
        if let id, !QEMUIdentifier.isWellFormed(id) {
            complete(.failure(.generic("Parameter 'id' expects an identifier")))
            return
        }
        guard let (plugin, driver) = vm.pluginProviding(driver: driverName) else {
            complete(.failure(.generic("'\(driverName)' is not a valid device model name")))
            return
        }
        // qdev_device_add checks the bus before the id is taken and the properties.
        if let type = driver.bus, BoardBuses.placedTypes.contains(type), !vm.coldPlugging {
            complete(.failure(BoardBuses.of(machineType: vm.spec.machine.type).hotplugRefusal(driver: driverName, type: type, bus: args.bus)))
            return
        }
        let pciBus = driver.bus == "PCI" ? vm.pciBus : nil
        let onPCIBus = pciBus.map { args.bus == nil || args.bus == $0.name } ?? false
        if let pciBus, onPCIBus, !pciBus.isHotpluggable, !vm.coldPlugging {
            complete(.failure(.generic("Bus '\(pciBus.name)' does not support hotplugging")))
            return
        }
        if let id, vm.devices.device(id: id) != nil {
            complete(.failure(.generic("Duplicate device ID '\(id)'")))
            return
        }
        // QEMU 7.2 sets no bound and so has no text for it: the error names the limit.
        let limit = vm.owner.limits.devicesPerVM
        guard vm.devices.devices.count + vm.devicesBeingAdded < limit else {
            complete(.failure(.generic("VM '\(vm.name)' holds \(limit) devices already (limit devices-per-vm)")))
            return
        }
        let qomPath = vm.devices.takeQOMPath(for: id)
        var properties = JSONObject()
        for (key, value) in members where !hostMembers.contains(key) {
            guard driver.propertyNames.contains(key) || (pciBus != nil && pciMembers.contains(key)) else {
                complete(.failure(.generic("Property '\(driverName).\(key)' not found")))
                return
            }
            properties[key] = value
        }
        if let bus = args.bus { properties["bus"] = .string(bus) }
        var pciAddress: PCIAddress?
        if let pciBus, onPCIBus {
            switch place(driverName, id: id, members, on: pciBus, hotplugged: !vm.coldPlugging) {
            case .failure(let error): return complete(.failure(error))
            case .success(let address): pciAddress = address
            }
        }
        vm.devicesBeingAdded += 1
        plugin.add(with: driver, command: "device_add", id: id, qomPath: qomPath, properties: properties) { [weak vm] result in
            guard let vm else { return complete(result) }
            vm.devicesBeingAdded -= 1
            if let pciAddress { vm.pciBus?.endClaim(pciAddress) }
            guard case .success(let reported) = result else { return complete(result) }
            // A driver may answer with the values QEMU's qom-get reads of
            // the new device (defaults, a link's canonical path): they are
            // its properties from then on. The client gets {}, as from QEMU.
            var values = properties
            for (key, value) in reported.objectValue ?? [:] { values[key] = value }
            vm.devices.add(Device(id: id, driver: driverName, qomPath: qomPath, bus: args.bus,
                                  properties: values, owner: plugin.library, pciAddress: pciAddress))
            complete(.success(.object([:])))
        }
    }

    /// Reads `addr` and `multifunction` as QEMU sets those properties, then
    /// claims the device's function on the bus (its realize's checks).
    /// - Parameter held: whether the claim is kept until `endClaim` (a
    ///   `device_add`, whose plugin answers later); a configured device is
    ///   registered before anything else can ask, so it only takes the place.
    static func place(_ driver: String, id: String?, _ properties: JSONObject, on bus: PCIBus,
                      hotplugged: Bool, held: Bool = true) -> Result<PCIAddress, QMPError> {
        var requested: PCIAddress?
        if let addr = properties["addr"] {
            switch PCIAddress.parse(property: addr) {
            case .failure(let refusal): return .failure(.generic("Property '\(driver).addr' doesn't take value '\(refusal.text)'"))
            case .success(let address): requested = address
            }
        }
        var multifunction = false
        if let text = properties["multifunction"].flatMap(PCIAddress.optionText) {
            guard let value = PCIBus.parseBool(text) else {
                return .failure(.generic("Parameter 'multifunction' expects 'on' or 'off'"))
            }
            multifunction = value
        }
        return bus.claim(driver: driver, id: id, requested: requested, multifunction: multifunction, hotplugged: hotplugged, held: held)
    }

    static func delete(_ context: CommandContext, _ args: QAPI.DeviceDelCommand, _ complete: @escaping (CommandResult) -> Void) {
        let vm = context.vm
        let id = args.id
        guard let device = vm.devices.device(idOrPath: id),
              let plugin = vm.plugins.first(where: { $0.library === device.owner }),
              let driver = device.owner.deviceDrivers[device.driver]
        else {
            complete(.failure(.deviceNotFound(id)))
            return
        }
        plugin.delete(with: driver, command: "device_del", id: device.id ?? device.qomPath) { [weak vm] result in
            if case .success = result { vm?.devices.markUnplugPending(device.qomPath) }
            complete(result)
        }
    }
}
