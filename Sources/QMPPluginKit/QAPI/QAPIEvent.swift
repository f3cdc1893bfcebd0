import QMPWire

extension PluginVM {
    /// Emits a schema-declared event with typed data (an event without
    /// data members is sent without `data`, as QEMU sends it).
    public func emit<E: QAPIEvent>(_ event: E) {
        let data = event.qapiObject
        emit(E.qapiName, data.isEmpty ? nil : data)
    }
}
