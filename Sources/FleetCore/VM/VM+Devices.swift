import PluginHost
import QAPIRuntime
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// Device and object routing: the host keeps the qdev/QOM bookkeeping (ids,
/// paths, DEVICE_DELETED) and each plugin keeps its devices' state.
extension VM {
    /// The instance of the plugin that provides device driver `name`.
    func pluginProviding(driver name: String) -> (PluginInstance, DeviceDriver)? {
        for plugin in plugins {
            if let driver = plugin.library.deviceDrivers[name] { return (plugin, driver) }
        }
        return nil
    }

    func pluginProviding(objectType name: String) -> (PluginInstance, DeviceDriver)? {
        for plugin in plugins {
            if let type = plugin.library.objectTypes[name] { return (plugin, type) }
        }
        return nil
    }

    /// The guest released a device (the plugin said so): it leaves every
    /// query (its PCI function too) and DEVICE_DELETED goes out, as QEMU
    /// sends it: a virtio PCI proxy's `virtio-backend` child first (a path,
    /// no id), then the device.
    public func deviceReleased(idOrPath: String) {
        guard let device = devices.remove(idOrPath: idOrPath) else {
            logger.warning("device_deleted for unknown device \(idOrPath)")
            return
        }
        if device.driver.hasPrefix("virtio-"), device.driver.contains("-pci") {
            events.emit(QAPI.DeviceDeletedEvent(path: device.qomPath + "/virtio-backend"))
        }
        events.emit(QAPI.DeviceDeletedEvent(device: device.id, path: device.qomPath))
    }

    /// A device `owner`'s config created (QEMU's command-line `-device`):
    /// registered as `device_add` would, cold-plugged on the PCI bus when
    /// its driver is a PCI one (`addr`, `multifunction` and `bus` read from
    /// its properties).
    package func realizeConfiguredDevice(driver name: String, id: String, properties: JSONObject, owner: PluginLibrary) -> Result<Void, QMPError> {
        guard let found = owner.deviceDrivers.index(forKey: name) else { return .failure(.generic("'\(name)' is not a valid device model name")) }
        let driver = owner.deviceDrivers.values[found]
        guard QEMUIdentifier.isWellFormed(id) else { return .failure(.generic("Parameter 'id' expects an identifier")) }
        guard devices.device(id: id) == nil else { return .failure(.generic("Duplicate device ID '\(id)'")) }
        var pciAddress: PCIAddress?
        if driver.bus == "PCI", let bus = pciBus, properties["bus"] == nil || properties["bus"]?.stringValue == bus.name {
            // Registered below in this same call: no claim to hold meanwhile.
            switch DeviceCommands.place(name, id: id, properties, on: bus, hotplugged: false, held: false) {
            case .failure(let error): return .failure(error)
            case .success(let address): pciAddress = address
            }
        }
        // The driver's name as the plugin registered it: one string for
        // every VM, where the one read from the plugin's call is each VM's own.
        // A named device takes no number (`takeQOMPath`): its path is its id's.
        devices.add(Device(peripheral: id, driver: owner.deviceDrivers.keys[found], properties: properties, owner: owner,
                           pciAddress: pciAddress))
        return .success(())
    }
}
