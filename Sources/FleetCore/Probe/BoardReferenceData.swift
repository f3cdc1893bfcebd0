import Foundation
import QMPWire

/// What QEMU 7.2's boards answer before any device is added
/// (`qemu -machine pc|q35|virt -nodefaults -S`), recorded by
/// `scripts/record-qemu-data` into `Resources/qemu-7.2/qmp-schema.json`
/// (`machines.<m>.board`): the built-in PCI functions, ROMs, RAM blocks,
/// and the TCG and IRQ statistics of a board that has not run.
///
/// Read at the first such query, once per process.
final class BoardReferenceData: Sendable {
    /// Per recorded machine (`pc`, `q35`, `virt`): query name -> QEMU's reply.
    let boards: [String: JSONObject]
    /// The RAM size the boards were recorded with (QEMU's default, 128 MiB).
    static let recordedRAMBytes: UInt64 = 128 << 20

    init(_ value: JSONValue) {
        var boards: [String: JSONObject] = [:]
        for (name, machine) in value["machines"]?.objectValue ?? [:] {
            boards[name] = machine["board"]?.objectValue
        }
        self.boards = boards
    }

    static let shared: BoardReferenceData? = {
        guard let url = Bundle.module.url(forResource: "qmp-schema", withExtension: "json", subdirectory: "qemu-7.2"),
              let data = try? Data(contentsOf: url),
              let value = try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
        else { return nil }
        return BoardReferenceData(value)
    }()

    /// The recorded board a machine type is: `pc-i440fx-*` is pc,
    /// `pc-q35-*` q35, `virt*` virt; nil for the others (none, microvm...).
    static func board(of machineType: String) -> String? {
        if machineType == "pc" || machineType.hasPrefix("pc-i440fx-") { return "pc" }
        if machineType == "q35" || machineType.hasPrefix("pc-q35-") { return "q35" }
        if machineType.hasPrefix("virt") { return "virt" }
        return nil
    }

    /// QEMU's reply to `query` on `machineType`'s board, if recorded.
    func reply(_ query: String, machineType: String) -> JSONValue? {
        guard let board = BoardReferenceData.board(of: machineType) else { return nil }
        return boards[board]?[query]
    }
}
