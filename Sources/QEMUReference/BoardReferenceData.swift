import QMPWire

/// What QEMU 7.2's boards answer before any device is added
/// (`qemu -machine pc|q35|virt -nodefaults -S`), recorded by
/// `scripts/record-qemu-data` into `Resources/qemu-7.2/qmp-schema.json`
/// (`machines.<m>.board`): the built-in PCI functions, ROMs, RAM blocks,
/// and the TCG and IRQ statistics of a board that has not run.
///
/// Read at the first such query, once per process.
package final class BoardReferenceData: Sendable {
    /// Per recorded machine (`pc`, `q35`, `virt`): query name -> QEMU's reply.
    package let boards: [String: JSONObject]
    /// The RAM size the boards were recorded with (QEMU's default, 128 MiB).
    package static let recordedRAMBytes: UInt64 = 128 << 20

    package init(_ value: JSONValue) {
        var boards: [String: JSONObject] = [:]
        for (name, machine) in value["machines"]?.objectValue ?? [:] {
            boards[name] = machine["board"]?.objectValue
        }
        self.boards = boards
    }

    package static let shared: BoardReferenceData? = RecordedQEMUFile.qmpSchema.read().map(BoardReferenceData.init)

    /// The recorded board a machine type is: `pc-i440fx-*` is pc,
    /// `pc-q35-*` q35, `virt*` virt; nil for the others (none, microvm...).
    package static func board(of machineType: String) -> String? {
        if machineType == "pc" || machineType.hasPrefix("pc-i440fx-") { return "pc" }
        if machineType == "q35" || machineType.hasPrefix("pc-q35-") { return "q35" }
        if machineType.hasPrefix("virt") { return "virt" }
        return nil
    }

    /// `/machine` of `machineType`'s board as QEMU 7.2 showed it
    /// (`machines.<m>.board.qom-machine`): `qom-list` without and with
    /// hot-pluggable memory (which adds a child and reorders the list), and
    /// `qom-get` of each property but children and the clock.
    package func machineProperties(machineType: String) -> (list: [JSONValue], listWithDeviceMemory: [JSONValue], values: JSONObject)? {
        guard let board = BoardReferenceData.board(of: machineType), let recorded = boards[board]?["qom-machine"],
              let list = recorded["list"]?.arrayValue, let values = recorded["values"]?.objectValue else { return nil }
        return (list, recorded["list-device-memory"]?.arrayValue ?? list, values)
    }

    /// QEMU's reply to `query` on `machineType`'s board, if recorded.
    package func reply(_ query: String, machineType: String) -> JSONValue? {
        guard let board = BoardReferenceData.board(of: machineType) else { return nil }
        return boards[board]?[query]
    }
}
