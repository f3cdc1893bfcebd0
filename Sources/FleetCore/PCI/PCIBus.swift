import QMPWire

/// The VM's root PCI bus (pc's `pci.0`, q35's and virt's `pcie.0`): which
/// function of which slot each PCI device is, as QEMU 7.2's
/// `do_pci_register_device` and `pci_init_multifunction` decide it.
///
/// The board's own functions (host bridge, PIIX3/ICH9, ...) occupy their
/// recorded slots for the VM's life. A device `device_add` plugs occupies
/// the function its `addr` names, or function 0 of the first slot whose
/// function 0 is free; while its plugin creates it the place is claimed,
/// so a second `device_add` cannot take it meanwhile, and a refusal frees
/// it. The devices' places are read from the VM's `DeviceRegistry`
/// (`Device.pciAddress`), so a device the guest released, or devices an
/// incoming migration brought, are where the registry says with no second
/// bookkeeping to keep in step.
///
/// Loop-confined, like its VM.
public final class PCIBus {
    /// What occupies a function: a board function or a device.
    struct Occupant {
        /// The QOM type QEMU names in its errors (`PIIX3`, `e1000`).
        let type: String
        /// The qdev id; nil prints as "(null)", as QEMU's `%s` of NULL does.
        let id: String?
        /// The `multifunction` property: whether other functions of its slot may exist.
        let multifunction: Bool
    }

    /// The bus's name: what `device_add`'s `bus` names to put a device on it.
    public let name: String
    /// Whether `device_add` may plug into it once the machine is ready.
    public let isHotpluggable: Bool
    /// The board's functions' QOM types by devfn: the recorded table
    /// itself, shared by every VM of the board (a table of occupants per
    /// VM was 0.6 KiB of each VM of a 10,000-VM fleet).
    let boardFunctionTypes: PCIFunctionTable
    private let devices: DeviceRegistry
    /// Functions claimed by a `device_add` in progress, by devfn.
    private var claims: [UInt8: Occupant] = [:]

    init(name: String, isHotpluggable: Bool, boardFunctionTypes: PCIFunctionTable, devices: DeviceRegistry) {
        self.name = name
        self.isHotpluggable = isHotpluggable
        self.boardFunctionTypes = boardFunctionTypes
        self.devices = devices
    }

    /// The occupant of `devfn`, if any.
    func occupant(_ devfn: UInt8) -> Occupant? {
        // The board's function 0 devices (PIIX3, ICH9-LPC) are multifunction.
        if let type = boardFunctionTypes[devfn] { return Occupant(type: type, id: nil, multifunction: true) }
        // Claims exist only while a device_add runs: most look-ups skip the hash.
        if !claims.isEmpty, let claim = claims[devfn] { return claim }
        guard let device = devices.devices.first(where: { $0.pciAddress?.devfn == devfn }) else { return nil }
        return Occupant(type: device.driver, id: device.id, multifunction: device.isMultifunction)
    }

    /// Claims a function for a device of type `driver`: the one
    /// `requested` names, or function 0 of the first free slot. Fails with
    /// QEMU 7.2's error when the place is taken, when it is a function
    /// other than 0 of a populated slot (hot-plugged, the guest would never
    /// see it; cold-plugged, only behind a multifunction function 0), or
    /// when a single-function device would share its slot. A success must
    /// be followed by `endClaim`, unless `held` is false: the caller then
    /// records the device at that place before anything else can claim
    /// (a configured device: a claim's table entry made and removed at
    /// once was 1.6 k instructions a device).
    func claim(driver: String, id: String?, requested: PCIAddress?, multifunction: Bool,
               hotplugged: Bool = true, held: Bool = true) -> Result<PCIAddress, QMPError> {
        let taken = occupancy
        let address: PCIAddress
        if let requested {
            if taken.contains(requested.devfn), let occupant = occupant(requested.devfn) {
                return .failure(.generic("PCI: slot \(requested.slot) function \(requested.function) not available for \(driver), in use by \(occupant.type),id=\(occupant.id ?? "(null)")"))
            }
            if requested.function != 0, taken.contains(requested.slot << 3), let first = occupant(requested.slot << 3) {
                if hotplugged {
                    return .failure(.generic("PCI: slot \(requested.slot) function 0 already occupied by \(first.type), new func \(driver) cannot be exposed to guest."))
                }
                if !first.multifunction {
                    return .failure(.generic("PCI: single function device can't be populated in function \(requested)"))
                }
            }
            address = requested
        } else {
            guard let free = (0..<32).lazy.map({ PCIAddress(devfn: UInt8($0) << 3) }).first(where: { !taken.contains($0.devfn) }) else {
                return .failure(.generic("PCI: no slot/function available for \(driver), all in use or reserved"))
            }
            address = free
        }
        if address.function == 0, !multifunction, let other = taken.firstOtherFunction(ofSlot: address.slot) {
            let slot = String(address.slot, radix: 16)
            return .failure(.generic("PCI: \(slot).0 indicates single function, but \(slot).\(String(other, radix: 16)) is already populated."))
        }
        if held { claims[address.devfn] = Occupant(type: driver, id: id, multifunction: multifunction) }
        return .success(address)
    }

    /// The functions taken now: the board's, the claims' and the devices'
    /// (`occupant` finds one of them by the same three).
    var occupancy: PCIOccupancy {
        var taken = boardFunctionTypes.occupied
        for devfn in claims.keys { taken.insert(devfn) }
        for device in devices.devices {
            if let address = device.pciAddress { taken.insert(address.devfn) }
        }
        return taken
    }

    /// Ends a claim: the device exists now (the registry holds its place)
    /// or was refused (the place is free again).
    func endClaim(_ address: PCIAddress) {
        claims[address.devfn] = nil
        // Claims last while a device is made: an empty table lets its
        // storage go (0.16 KiB per VM after its configured devices).
        if claims.isEmpty { claims = [:] }
    }

    /// The devices on the bus, in devfn order.
    var pluggedDevices: [Device] {
        devices.devices.filter { $0.pciAddress != nil }.sorted { $0.pciAddress! < $1.pciAddress! }
    }
}

extension Device {
    /// The `multifunction` property as QEMU's `qapi_bool_parse` reads it.
    var isMultifunction: Bool {
        properties["multifunction"].flatMap(PCIAddress.optionText).flatMap(PCIBus.parseBool) ?? false
    }
}

extension PCIBus {
    /// A bool property's text, as `qapi_bool_parse`: nil for anything else.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "on", "yes", "true", "y": return true
        case "off", "no", "false", "n": return false
        default: return nil
        }
    }
}
