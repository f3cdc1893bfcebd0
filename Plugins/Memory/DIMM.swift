import QMPWire

/// A memory device on the board: a `pc-dimm` or an `nvdimm`, with the slot
/// and guest-physical address QEMU assigned it.
final class DIMM {
    enum Kind: String, CaseIterable {
        case dimm = "pc-dimm"
        case nvdimm

        /// `MemoryDeviceInfoKind`.
        var infoKind: String { self == .dimm ? "dimm" : "nvdimm" }

        var propertyNames: [String] {
            let common = ["addr", "memdev", "node", "slot"]
            return self == .dimm ? common : common + ["label-size", "unarmed", "uuid"]
        }
    }

    let id: String?
    let kind: Kind
    let qomPath: String
    let slot: Int
    let addr: UInt64
    let node: Int
    let backend: MemoryBackend
    /// device_del was accepted and the guest has not answered yet.
    var unplugRequested = false

    init(id: String?, kind: Kind, qomPath: String, slot: Int, addr: UInt64, node: Int, backend: MemoryBackend) {
        self.id = id
        self.kind = kind
        self.qomPath = qomPath
        self.slot = slot
        self.addr = addr
        self.node = node
        self.backend = backend
    }

    var size: UInt64 { backend.size }
    var range: Range<UInt64> { addr..<(addr + size) }

    /// `query-memory-devices`' entry.
    var info: JSONValue {
        var data = JSONObject()
        if let id { data["id"] = .string(id) }
        data["addr"] = .uint(addr)
        data["size"] = .uint(size)
        data["slot"] = .int(Int64(slot))
        data["node"] = .int(Int64(node))
        data["memdev"] = .string("/objects/\(backend.id)")
        data["hotplugged"] = true
        data["hotpluggable"] = true
        return ["type": .string(kind.infoKind), "data": .object(data)]
    }
}
