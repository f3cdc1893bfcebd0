import QMPWire

/// QAPI's `TpmModel`: what query-tpm reports for a frontend device.
enum TPMModel: String {
    case tis = "tpm-tis"
    case crb = "tpm-crb"
    case spapr = "tpm-spapr"
}

/// A TPM frontend device type of one target, and the model it reports.
///
/// QEMU 7.2 x86_64 has `tpm-tis` (ISA) and `tpm-crb` (sysbus); aarch64 has
/// `tpm-tis-device` (sysbus on the virt platform bus), which reports itself
/// as `tpm-tis`. None of them can be hot-plugged.
struct TPMFrontendType {
    let driver: String
    let model: TPMModel
    /// The parent QOM type, for device-list-properties and qom-list-types.
    let parent: String
    /// QEMU 7.2's answer to device_add of this driver after start-up.
    let hotplugError: String
    let properties: [String]

    static let x86: [TPMFrontendType] = [
        TPMFrontendType(driver: "tpm-tis", model: .tis, parent: "isa-device",
                        hotplugError: "Bus 'isa.0' does not support hotplugging", properties: ["tpmdev", "irq", "ppi"]),
        TPMFrontendType(driver: "tpm-crb", model: .crb, parent: "device",
                        hotplugError: "Device 'tpm-crb' can not be hotplugged on this machine", properties: ["tpmdev", "ppi"]),
    ]
    static let arm: [TPMFrontendType] = [
        TPMFrontendType(driver: "tpm-tis-device", model: .tis, parent: "sys-bus-device",
                        hotplugError: "Bus 'main-system-bus' does not support hotplugging", properties: ["tpmdev", "ppi"]),
    ]
    /// Every driver the plugin registers (the host needs one table for all VMs).
    static let all = x86 + arm

    /// The frontends of a target (`vm.machine.arch`).
    static func available(arch: String) -> [TPMFrontendType] {
        arch == "aarch64" || arch == "arm" ? arm : x86
    }

    /// query-tpm-models of the target, in QEMU 7.2's order: it lists the
    /// classes implementing `tpm-if` newest-registered first.
    static func models(arch: String) -> [TPMModel] {
        arch == "aarch64" || arch == "arm" ? [.tis] : [.crb, .tis]
    }

    var description: JSONValue {
        [
            "name": .string(driver), "parent": .string(parent), "bus": model == .tis && parent == "isa-device" ? "ISA" : "System",
            "hotpluggable": false,
            "properties": .array(properties.map { name in
                ["name": .string(name), "type": name == "tpmdev" ? "str" : (name == "irq" ? "uint32" : "bool")]
            }),
        ]
    }
}
