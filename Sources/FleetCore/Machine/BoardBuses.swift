import QEMUReference
import QMPWire

/// The buses a board has from the start, by name and qdev bus type, so
/// `device_add` finds a bus for an IDE or floppy device as QEMU 7.2's
/// `qdev_device_add` does and refuses it as QEMU does once the machine is
/// ready: pc's PIIX IDE and floppy buses and q35's AHCI IDE buses take no
/// hot-plug, and other boards have none.
///
///     device_add {"driver": "ide-cd", "id": "cd1"}
///     pc:   Bus 'ide.1' does not support hotplugging
///     q35:  Bus 'ide.5' does not support hotplugging
///     virt: No 'IDE' bus found for device 'ide-cd'
///
/// Without a `bus`, QEMU takes the first bus of the type that
/// `qbus_find_recursive` meets, and a controller lists its buses newest
/// first: `ide.1` on pc, `ide.5` on q35. With a `bus`, the name must be one
/// of the board's (`Bus 'ide.9' not found`) and of the device's type
/// (`Device 'ide-hd' can't go on PCI bus`). The checks come before the
/// device's id is looked up and before its properties, as in QEMU.
///
/// Only the types in `placedTypes` are placed here: the board owns every
/// bus of them. Devices of other buses are the root PCI bus's (`PCIBus`)
/// or their plugin's (an ISA UART, a TPM, a virtio-serial port).
struct BoardBuses: Sendable {
    struct Bus: Sendable {
        let name: String
        /// The QOM type of the bus as QEMU's errors name it (`IDE`, `PCI`).
        let type: String
    }

    /// In `qbus_find_recursive`'s order. None of them but the root PCI bus
    /// (which `PCIBus` handles) takes hot-plug.
    let buses: [Bus]

    /// The device bus types whose devices the host places on a board bus.
    static let placedTypes: Set<String> = ["IDE", "floppy-bus"]

    static let pc = BoardBuses(buses: [
        Bus(name: "pci.0", type: "PCI"), Bus(name: "isa.0", type: "ISA"),
        Bus(name: "ide.1", type: "IDE"), Bus(name: "ide.0", type: "IDE"), Bus(name: "floppy-bus.0", type: "floppy-bus"),
    ])
    static let q35 = BoardBuses(buses: [Bus(name: "pcie.0", type: "PCIE"), Bus(name: "isa.0", type: "ISA")]
        + (0..<6).reversed().map { Bus(name: "ide.\($0)", type: "IDE") })
    static let virt = BoardBuses(buses: [Bus(name: "pcie.0", type: "PCIE")])
    static let none = BoardBuses(buses: [])

    /// The buses of `machineType`'s board (none for a board QEMU 7.2 was not recorded for).
    static func of(machineType: String) -> BoardBuses {
        switch BoardReferenceData.board(of: machineType) {
        case "pc": return pc
        case "q35": return q35
        case "virt": return virt
        default: return none
        }
    }

    /// QEMU's refusal of a hot-plugged `driver` whose bus type is `type`
    /// (one of `placedTypes`), on `bus` or on the one QEMU would pick:
    /// every board bus of these types refuses hot-plug.
    func hotplugRefusal(driver: String, type: String, bus name: String?) -> QMPError {
        guard let name else {
            guard let bus = buses.first(where: { $0.type == type }) else {
                return .generic("No '\(type)' bus found for device '\(driver)'")
            }
            return .generic("Bus '\(bus.name)' does not support hotplugging")
        }
        guard let bus = buses.first(where: { $0.name == name }) else { return .generic("Bus '\(name)' not found") }
        guard bus.type == type else { return .generic("Device '\(driver)' can't go on \(bus.type) bus") }
        return .generic("Bus '\(name)' does not support hotplugging")
    }
}
