import QMPWire

/// What the simulated guest's input devices received, in order, in
/// InputEvent form (`{"type": "key", "data": {"key": ..., "down": true}}`),
/// so tests can see that keys arrived. Read by the `received-input` guest action.
struct ReceivedInput {
    /// Events kept; older ones are dropped first.
    static let capacity = 4096

    private(set) var events: [JSONValue] = []

    mutating func append(_ event: JSONValue) {
        if events.count >= ReceivedInput.capacity { events.removeFirst(events.count - ReceivedInput.capacity + 1) }
        events.append(event)
    }

    mutating func take() -> [JSONValue] {
        defer { events.removeAll() }
        return events
    }

    static func key(_ key: JSONValue, down: Bool) -> JSONValue {
        ["type": "key", "data": ["key": key, "down": .bool(down)]]
    }
}
