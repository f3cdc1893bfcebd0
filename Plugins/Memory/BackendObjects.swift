import QMPWire

/// `object-add`/`object-del` of memory backends and `query-memdev`.
extension MemoryPlugin {
    static func objectTypeDescription(_ kind: MemoryBackend.Kind) -> JSONValue {
        [
            "name": .string(kind.rawValue),
            "parent": "memory-backend",
            "properties": .array(kind.propertyNames.map { ["name": .string($0), "type": "any"] }),
        ]
    }

    func backend(_ id: String) -> MemoryBackend? {
        backends.first { $0.id == id }
    }

    @discardableResult
    func addBackend(kind: MemoryBackend.Kind, id: String, _ props: JSONObject) -> Result<MemoryBackend, QMPError> {
        MemoryBackend.make(id: id, kind: kind, props, hostNodeCount: config.hostNodes).map { backend in
            backends.append(backend)
            return backend
        }
    }

    /// A backend a DIMM maps cannot go (`user_creatable_can_be_deleted`).
    func removeBackend(_ id: String) -> Result<Void, QMPError> {
        guard let backend = backend(id) else { return .failure(.generic("object '\(id)' not found")) }
        guard backend.user == nil else { return .failure(.generic("object '\(id)' is in use, can not be deleted")) }
        backends.removeAll { $0 === backend }
        return .success(())
    }

    /// Every backend, the board's RAM included. QEMU walks `/objects` in
    /// hash order; we list the newest first and the board's RAM last.
    func queryMemdev() -> JSONValue {
        var list = backends.reversed().map(\.memdevInfo)
        if let ramID = layout.ramBackendID, layout.ramBytes > 0 {
            list.append(MemoryBackend(id: ramID, kind: .ram, size: layout.ramBytes).memdevInfo)
        }
        return .array(list)
    }
}
