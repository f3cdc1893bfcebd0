import QEMUReference
import QMPWire

/// The board's own RAM backend: QEMU 7.2 (`create_default_memdev`) makes
/// the machine's RAM a `memory-backend-ram` object at
/// `/objects/<default-ram-id>` ("pc.ram" on pc and q35, "mach-virt.ram" on
/// virt), which `qom-list /objects` shows beside the client's objects and
/// `query-memdev` lists. No client made it: `object-add` of its id is a
/// duplicate and `object-del` refuses it as in use.
struct BoardRAMBackend {
    let id: String
    let size: UInt64

    static let type = "memory-backend-ram"

    /// The machine's backend, if its board has one.
    init?(_ machine: MachineSpec) {
        let entry = MachineCatalog.entries(for: machine.arch).first { $0.name == machine.type || $0.alias == machine.type }
        guard let id = entry?.defaultRAMID else { return nil }
        self.id = id
        size = machine.ramBytes
    }

    /// `qom-list` of it: the type's properties as QEMU 7.2 lists them
    /// (recorded; qom-list shows no descriptions), then its memory region.
    var properties: [JSONValue] {
        let recorded = QEMUReferenceData.shared?.objectProperties[Self.type]?.arrayValue ?? []
        let listed: [JSONValue] = recorded.compactMap { property in
            guard let name = property["name"], let type = property["type"] else { return nil }
            return ["name": name, "type": type]
        }
        return listed + [["name": .string("\(id)[0]"), "type": "child<memory-region>"]]
    }

    /// `qom-get` of its values: what `query-memdev` reports for it.
    var values: JSONObject {
        ["size": .uint(size), "share": false, "dump": true, "merge": true, "prealloc": false, "reserve": true,
         "policy": "default", "host-nodes": .array([]), "prealloc-threads": 1,
         "x-use-canonical-path-for-ramblock-id": false]
    }
}
