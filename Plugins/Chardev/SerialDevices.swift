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
                      addDevice: { this, device, props in this.addController(device, props) },
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

    func addController(_ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        VirtioSerialController.maxPorts(props["max_ports"]).map { maxPorts in
            let bus = device.id.map { "\($0).0" } ?? "virtio-serial\(anonymousControllers).0"
            if device.id == nil { anonymousControllers += 1 }
            controllers.append(VirtioSerialController(id: device.id, qomPath: device.qomPath, busName: bus, maxPorts: maxPorts))
        }
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

    /// A port: its bus must exist (without one, QEMU's `qbus_find_recursive`
    /// meets the newest controller's first), its chardev must exist and be
    /// free, then its number (`VirtioSerialController`) and its name must
    /// be free.
    func addPort(driver: String, _ device: NewDevice, _ props: JSONObject) -> Result<Void, QMPError> {
        let controller: VirtioSerialController
        if let busName = props["bus"]?.stringValue {
            guard let found = controllers.first(where: { $0.busName == busName }) else {
                return .failure(.generic("Bus '\(busName)' not found"))
            }
            controller = found
        } else {
            guard let newest = controllers.last else {
                return .failure(.generic("No 'virtio-serial-bus' bus found for device '\(driver)'"))
            }
            controller = newest
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
        var requested = VirtioSerialController.unassigned
        if let text = props["nr"].flatMap(QemuOptsText.of) {
            switch QemuOptsText.uint32(text, name: "nr") {
            case .success(let nr): requested = nr
            case .failure(let error): return .failure(error)
            }
        }
        let isConsole = driver == "virtconsole"
        let name = props["name"].flatMap(QemuOptsText.of)
        let number: UInt32
        switch controller.number(requested: requested, isConsole: isConsole, name: name, ports: ports) {
        case .success(let n): number = n
        case .failure(let error): return .failure(error)
        }
        controller.take(number)
        let port = VirtioSerialPort(id: device.id, qomPath: device.qomPath, driver: driver, busName: controller.busName, chardevID: attached?.id,
                                    isConsole: isConsole, number: number, name: name)
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
        controllers.first { $0.busName == port.busName }?.release(port.number)
        if let id = port.chardevID { chardev(id)?.frontend = nil }
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
    /// Its number on its controller's bus (`nr`).
    let number: UInt32
    /// Its `name` (what the guest sees, `org.qemu.guest_agent.0`): one
    /// port of the VM's controllers at most has each.
    let name: String?
    var guestOpen = false

    init(id: String?, qomPath: String, driver: String, busName: String, chardevID: String?, isConsole: Bool,
         number: UInt32, name: String?) {
        self.id = id
        self.qomPath = qomPath
        self.driver = driver
        self.busName = busName
        self.chardevID = chardevID
        self.isConsole = isConsole
        self.number = number
        self.name = name
    }
}
