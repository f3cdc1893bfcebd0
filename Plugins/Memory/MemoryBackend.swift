import QMPWire

/// A host memory backend (`memory-backend-ram`, `memory-backend-file`):
/// the RAM a DIMM maps into the guest. Nothing is allocated or opened on
/// the host; the backend only records what QEMU would report.
final class MemoryBackend {
    enum Kind: String, CaseIterable {
        case ram = "memory-backend-ram"
        case file = "memory-backend-file"

        /// QOM properties `object-add` accepts, in QAPI declaration order
        /// (`MemoryBackendProperties`, then the type's own).
        var propertyNames: [String] {
            let common = ["dump", "host-nodes", "merge", "policy", "prealloc", "prealloc-threads", "share", "reserve",
                          "size", "x-use-canonical-path-for-ramblock-id"]
            switch self {
            case .ram: return common
            case .file: return common + ["align", "discard-data", "mem-path", "pmem", "readonly"]
            }
        }

        /// The smallest DIMM alignment QEMU derives from this backend's
        /// memory region on x86-64 Linux (transparent huge pages for
        /// anonymous RAM, the file's page size otherwise).
        var regionAlignment: UInt64 { self == .ram ? 2 << 20 : 4 << 10 }
    }

    enum Policy: String { case `default`, preferred, bind, interleave }

    /// QEMU's `MAX_NODES`: host-nodes values must stay below it.
    static let maxHostNodes = 128

    let id: String
    let kind: Kind
    let size: UInt64
    var merge = true
    var dump = true
    var prealloc = false
    var share = false
    var reserve = true
    /// Sorted and without duplicates: QEMU keeps a bitmap.
    var hostNodes: [Int] = []
    var policy = Policy.default
    var memPath: String?
    var align: UInt64 = 0
    /// The DIMM that maps this backend, if any.
    var user: String?

    init(id: String, kind: Kind, size: UInt64) {
        self.id = id
        self.kind = kind
        self.size = size
    }

    /// The alignment a DIMM on this backend needs.
    var dimmAlignment: UInt64 { max(kind.regionAlignment, align) }

    /// `query-memdev`'s entry.
    var memdevInfo: JSONValue {
        [
            "id": .string(id), "size": .uint(size), "merge": .bool(merge), "dump": .bool(dump),
            "prealloc": .bool(prealloc), "share": .bool(share), "reserve": .bool(reserve),
            "host-nodes": .array(hostNodes.map { .int(Int64($0)) }), "policy": .string(policy.rawValue),
        ]
    }
}

extension MemoryBackend {
    /// Builds a backend from `object-add` properties with QEMU's checks and
    /// texts: QAPI's type checks first (in declaration order), then the
    /// property setters, then `host_memory_backend_memory_complete`.
    static func make(id: String, kind: Kind, _ props: JSONObject, hostNodeCount: Int) -> Result<MemoryBackend, QMPError> {
        var reader = PropertyReader(props)
        guard let sizeValue = props["size"] else { return .failure(.generic("Parameter 'size' is missing")) }
        guard let size = reader.uint64("size", sizeValue) else { return .failure(reader.error ?? .generic("Parameter 'size' expects uint64")) }
        if kind == .file && props["mem-path"] == nil { return .failure(.generic("Parameter 'mem-path' is missing")) }
        let backend = MemoryBackend(id: id, kind: kind, size: size)
        if let v = reader.bool("merge") { backend.merge = v }
        if let v = reader.bool("dump") { backend.dump = v }
        if let v = reader.bool("prealloc") { backend.prealloc = v }
        if let v = reader.bool("share") { backend.share = v }
        if let v = reader.bool("reserve") { backend.reserve = v }
        _ = reader.bool("x-use-canonical-path-for-ramblock-id")
        _ = reader.uint64("prealloc-threads")
        if let text = reader.string("policy") {
            guard let policy = Policy(rawValue: text) else {
                return .failure(.generic("Parameter 'policy' does not accept value '\(text)'"))
            }
            backend.policy = policy
        }
        if let nodes = reader.uint16List("host-nodes") { backend.hostNodes = Array(Set(nodes.map(Int.init))).sorted() }
        if kind == .file {
            backend.memPath = reader.string("mem-path")
            if let a = reader.uint64("align") { backend.align = a }
            _ = reader.bool("discard-data")
            _ = reader.bool("pmem")
            _ = reader.bool("readonly")
        }
        if let error = reader.error { return .failure(error) }
        if size == 0 { return .failure(.generic("property 'size' of \(kind.rawValue) doesn't take value '0'")) }
        if let bad = backend.hostNodes.first(where: { $0 >= maxHostNodes }) {
            return .failure(.generic("Invalid host-nodes value: \(bad)"))
        }
        if size > UInt64(Int64.max) {
            return .failure(.generic("cannot set up guest memory '\(id)': Cannot allocate memory"))
        }
        if !backend.hostNodes.isEmpty && backend.policy == .default {
            return .failure(.generic("host-nodes must be empty for policy default, or you should explicitly specify a policy other than default"))
        }
        if backend.hostNodes.isEmpty && backend.policy != .default {
            return .failure(.generic("host-nodes must be set for policy \(backend.policy.rawValue)"))
        }
        // mbind() refuses nodes the host does not have (MPOL_PREFERRED only looks at the first).
        let checked = backend.policy == .preferred ? Array(backend.hostNodes.prefix(1)) : backend.hostNodes
        if checked.contains(where: { $0 >= hostNodeCount }) {
            return .failure(.generic("cannot bind memory to host NUMA nodes: Invalid argument"))
        }
        return .success(backend)
    }
}
