import QEMUReference
import QMPWire

/// What QEMU 7.2 shows of the PCI devices the plugins simulate, recorded by
/// `scripts/record-qemu-data` into `Resources/qemu-7.2/pci-devices.json`:
/// per board (`pc`, `q35`, `virt`) the QOM type of each of its own PCI
/// functions (what "in use by TYPE" names), each driver's `query-pci`
/// entry (alone on the board, as device `d0`), and for the virtio proxies
/// the debug queries' answers for a fresh device with no guest driver.
///
/// Read at first use, once per process.
final class PCIReferenceData: Sendable {
    /// One board's record.
    struct Board: Sendable {
        /// devfn -> QOM type of the board's own functions.
        let functionTypes: PCIFunctionTable
        /// Driver -> QEMU's query-pci entry for it (qdev_id "d0").
        let entries: [String: JSONObject]
        /// Driver -> `{"status", "queues", "vhost-queue-status", "queue-element"}`.
        let virtio: [String: JSONObject]
    }

    let boards: [String: Board]

    init(_ value: JSONValue) {
        var boards: [String: Board] = [:]
        for (name, machine) in value["machines"]?.objectValue ?? [:] {
            var types = PCIFunctionTable()
            for function in machine["board-functions"]?.arrayValue ?? [] {
                guard let slot = function["slot"]?.int64Value, let fn = function["function"]?.int64Value,
                      let type = function["type"]?.stringValue,
                      let address = PCIAddress(slot: Int(slot), function: Int(fn)) else { continue }
                types[address.devfn] = type
            }
            var entries: [String: JSONObject] = [:]
            for (driver, entry) in machine["devices"]?.objectValue ?? [:] {
                if let entry = entry.objectValue, entry["slot"] != nil { entries[driver] = entry }
            }
            var virtio: [String: JSONObject] = [:]
            for (driver, record) in machine["virtio"]?.objectValue ?? [:] {
                if let record = record.objectValue { virtio[driver] = record }
            }
            boards[name] = Board(functionTypes: types, entries: entries, virtio: virtio)
        }
        self.boards = boards
    }

    static let shared: PCIReferenceData? = RecordedQEMUFile.pciDevices.read().map(PCIReferenceData.init)

    /// The record of `machineType`'s board, if it is one of the recorded.
    func board(of machineType: String) -> Board? {
        BoardReferenceData.board(of: machineType).flatMap { boards[$0] }
    }
}
