import Foundation
import QMPWire

/// The files `scripts/record-qemu-data` recorded from QEMU 7.2, in this
/// module's `Resources/qemu-7.2`. Kept as file resources, not compiled in: as
/// Swift literals their 300 KB cost minutes of compile time.
package enum RecordedQEMUFile: String, Sendable {
    /// What libvirt's capability probe asks (`QEMUReferenceData`).
    case probe
    /// Each machine's command set and its board's own answers (`BoardReferenceData`).
    case qmpSchema = "qmp-schema"
    /// Each PCI driver's `query-pci` entry and virtio status, per board.
    case pciDevices = "pci-devices"

    /// The file's JSON; nil when it is missing from the installation or unreadable.
    package func read() -> JSONValue? {
        guard let url = Bundle.module.url(forResource: rawValue, withExtension: "json", subdirectory: "qemu-7.2"),
              let data = try? Data(contentsOf: url)
        else { return nil }
        return try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
    }
}
