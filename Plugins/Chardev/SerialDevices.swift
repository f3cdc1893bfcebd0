import QMPPluginKit
import QMPWire

/// The devices that use chardevs: virtio-serial-pci (the bus),
/// virtserialport and virtconsole on it, and isa-serial (the UART behind
/// the configured serial consoles; QEMU cannot hot-plug it).
extension ChardevPlugin {
    /// How long the simulated guest takes to let go of an unplugged device.
    static let guestUnplugMilliseconds: UInt64 = 10

    static let controllerDriver = "virtio-serial-pci"
    static let portDrivers = ["virtserialport", "virtconsole"]
    static let uartDriver = "isa-serial"

    static func description(_ name: String, parent: String, bus: String, hotpluggable: Bool, properties: [String]) -> JSONValue {
        ["name": .string(name), "parent": .string(parent), "bus": .string(bus), "hotpluggable": .bool(hotpluggable),
         "properties": .array(properties.map { ["name": .string($0), "type": "str"] })]
    }

    static func register(devices plugin: PluginRegistry<ChardevPlugin>) {
        plugin.device(description(controllerDriver, parent: "virtio-pci", bus: "PCI", hotpluggable: true,
                                  properties: ["addr", "max_ports", "vectors", "ioeventfd", "multifunction", "disable-legacy", "disable-modern"]),
                      addDevice: { this, device, _ in this.addController(device) },
                      remove: { this, id in this.removeController(id) })
        for driver in portDrivers {
            plugin.device(description(driver, parent: "virtio-serial-port", bus: "virtio-serial-bus", hotpluggable: true,
                                      properties: ["chardev", "name", "nr"]),
                          addDevice: { this, device, props in this.addPort(driver: driver, device, props) },
                          remove: { this, id in this.removePort(id) })
        }
        plugin.device(description(uartDriver, parent: "isa-device", bus: "ISA", hotpluggable: false,
                                  properties: ["chardev", "index", "iobase", "irq"]),
                      add: { this, _, _ in .failure(this.uartHotplugError) })
    }

    /// QEMU's answer to a hot-plugged UART: PC machines have an ISA bus that
    /// refuses hotplug; other machines have none.
    var uartHotplugError: QMPError {
        let type = vm.machine.type
        if type.hasPrefix("pc") || type.hasPrefix("q35") { return .generic("Bus 'isa.0' does not support hotplugging") }
        return .generic("No 'ISA' bus found for device 'isa-serial'")
    }

    func addController(_ device: NewDevice) -> Result<Void, QMPError> {
        let bus = device.id.map { "\($0).0" } ?? "virtio-serial\(anonymousControllers).0"
        if device.id == nil { anonymousControllers += 1 }
        controllers.append(VirtioSerialController(id: device.id, qomPath: device.qomPath, busName: bus))
        return .success(())
    }

    func removeController(_ idOrPath: String) -> Result<Void, QMPError> {
        guard let controller = controllers.first(where: { $0.id == idOrPath || $0.qomPath == idOrPath }) else {
            return .failure(.deviceNotFound(idOrPath))
        }
        vm.startTimer(afterMilliseconds: ChardevPlugin.guestUnplugMilliseconds) { [weak self] in
            guard let self else { return }
            for port in self.ports where port.busName == controller.busName { self.releasePort(port) }
            self.controllers.removeAll { $0 === controller }
            self.vm.deviceDeleted(idOrPath)
        }
        return .success(())
    }

    /// A port: its bus must exist, its chardev must exist and be free.
    func addPort(driver: String, _ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        let controller: VirtioSerialController
        if let busName = props["bus"]?.stringValue {
            guard let found = controllers.first(where: { $0.busName == busName }) else {
                return .failure(.generic("Bus '\(busName)' not found"))
            }
            controller = found
        } else {
            guard let first = controllers.first else {
                return .failure(.generic("No 'virtio-serial-bus' bus found for device '\(driver)'"))
            }
            controller = first
        }
        var attached: Chardev?
        if let name = props["chardev"].flatMap(QemuOptsText.of) {
            guard let chardev = chardev(name) else {
                return .failure(.generic("Property '\(driver).chardev' can't find value '\(name)'"))
            }
            guard !chardev.isInUse else {
                return .failure(.generic("Property '\(driver).chardev' can't take value '\(name)': Device '\(name)' is in use"))
            }
            attached = chardev
        }
        let isConsole = driver == "virtconsole"
        let port = VirtioSerialPort(id: device.id, qomPath: device.qomPath, driver: driver, busName: controller.busName, chardevID: attached?.id, isConsole: isConsole)
        // A console is open from the start; a port when the guest opens it.
        attached?.frontend = ChardevFrontend(deviceID: device.id, driver: driver, isOpen: isConsole)
        ports.append(port)
        return .success(())
    }

    func removePort(_ idOrPath: String) -> Result<Void, QMPError> {
        unplugWhenGuestLetsGo(idOrPath, from: \.ports) { this, port in this.releasePort(port) }
    }

    private func releasePort(_ port: VirtioSerialPort) {
        ports.removeAll { $0 === port }
        if let id = port.chardevID { chardev(id)?.frontend = nil }
    }
}

/// A virtio-serial-pci controller: the bus its ports sit on.
final class VirtioSerialController {
    let id: String?
    /// The path the host assigned (`NewDevice`): device_del takes it too.
    let qomPath: String
    let busName: String
    init(id: String?, qomPath: String, busName: String) {
        self.id = id
        self.qomPath = qomPath
        self.busName = busName
    }
}

/// A virtserialport or virtconsole.
final class VirtioSerialPort: GuestUnpluggedDevice {
    let id: String?
    /// The path the host assigned (`NewDevice`): device_del takes it too.
    let qomPath: String
    let driver: String
    let busName: String
    let chardevID: String?
    let isConsole: Bool
    var guestOpen = false

    init(id: String?, qomPath: String, driver: String, busName: String, chardevID: String?, isConsole: Bool) {
        self.id = id
        self.qomPath = qomPath
        self.driver = driver
        self.busName = busName
        self.chardevID = chardevID
        self.isConsole = isConsole
    }
}
