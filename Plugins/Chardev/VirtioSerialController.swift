import QMPPluginKit
import QMPWire

/// A virtio-serial-pci controller: the bus its ports sit on, and the port
/// numbers it hands out, as QEMU 7.2's virtio-serial-bus does.
///
/// A controller has `max_ports` numbers (31 by default, at most 511: each
/// port takes two virtqueues of 1,024, and one pair is the control
/// queue's). Number 0 is held from the start for a console (QEMU keeps it
/// for old guests, even after the console at 0 leaves): a `virtconsole`
/// takes 0 while no port has it, any other port the lowest free number, or
/// the `nr` it names. So with the default a controller takes 30
/// `virtserialport`s and a console:
///
///     device_add {"driver": "virtserialport", "id": "p30"}
///     virtio-serial-bus: Out-of-range port id specified, max. allowed: 30
///
/// Loop-confined, like the plugin that owns it.
final class VirtioSerialController {
    /// `VIRTIO_QUEUE_MAX / 2 - 1`.
    static let maximumPorts: UInt32 = 511
    static let defaultPorts: UInt32 = 31
    /// QEMU's `VIRTIO_CONSOLE_BAD_ID`: the `nr` of a port that names none.
    static let unassigned = UInt32.max

    let id: String?
    /// The path the host assigned (`NewDevice`): device_del takes it too.
    let qomPath: String
    let busName: String
    let maxPorts: UInt32
    /// `ports_map`: the numbers taken, 0 among them from the start.
    private var taken: Set<UInt32> = [0]

    init(id: String?, qomPath: String, busName: String, maxPorts: UInt32 = VirtioSerialController.defaultPorts) {
        self.id = id
        self.qomPath = qomPath
        self.busName = busName
        self.maxPorts = maxPorts
    }

    /// `max_ports` as `virtio_serial_device_realize` checks it.
    static func maxPorts(_ property: JSONValue?) -> Result<UInt32, QMPError> {
        guard let text = property.flatMap(QemuOptsText.of) else { return .success(defaultPorts) }
        return QemuOptsText.uint32(text, name: "max_ports").flatMap { ports in
            if ports == 0 { return .failure(.generic("Maximum number of serial ports not specified")) }
            if ports > maximumPorts { return .failure(.generic("maximum ports supported: \(maximumPorts)")) }
            return .success(ports)
        }
    }

    /// The number of a new port, with `virtser_port_device_realize`'s checks
    /// in its order: `requested` is its `nr` (`unassigned` for none), `name`
    /// its `name`, `ports` every port of the VM (a name is unique among
    /// all of them, a number on its own bus). Does not take the number:
    /// `take` does, once the port is made.
    func number(requested: UInt32, isConsole: Bool, name: String?, ports: [VirtioSerialPort]) -> Result<UInt32, QMPError> {
        let own = ports.filter { $0.busName == busName }
        let pluggingPort0 = isConsole && !own.contains { $0.number == 0 }
        if requested != Self.unassigned, own.contains(where: { $0.number == requested }) {
            return .failure(.generic("virtio-serial-bus: A port already exists at id \(requested)"))
        }
        if let name, ports.contains(where: { $0.name == name }) {
            return .failure(.generic("virtio-serial-bus: A port already exists by name \(name)"))
        }
        var number = requested
        if number == Self.unassigned {
            if pluggingPort0 {
                number = 0
            } else {
                // find_free_port_id: the lowest clear bit of the map's words.
                let bits = (maxPorts + 31) / 32 * 32
                guard let free = (0..<bits).first(where: { !taken.contains($0) }) else {
                    return .failure(.generic("virtio-serial-bus: Maximum port limit for this device reached"))
                }
                number = free
            }
        }
        guard number < maxPorts else {
            return .failure(.generic("virtio-serial-bus: Out-of-range port id specified, max. allowed: \(maxPorts - 1)"))
        }
        // virtconsole_realize, shared by both drivers.
        if number == 0 && !isConsole {
            return .failure(.generic("Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility."))
        }
        return .success(number)
    }

    func take(_ number: UInt32) { taken.insert(number) }

    /// A port left: its number is free again, but 0, which stays held.
    func release(_ number: UInt32) {
        if number != 0 { taken.remove(number) }
    }
}
