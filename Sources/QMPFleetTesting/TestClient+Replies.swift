import QMPWire

/// The two ways a test reads a reply: what it returned, or how it failed.
/// Most plugin tests compare one or the other with what QEMU 7.2 answered.
///
/// ```swift
/// client.result("query-status")              // {"running": true, "status": "running"}
/// client.errorPair("device_del", ["id": "x"]) // ("DeviceNotFound", "Device 'x' not found")
/// ```
extension TestClient {
    /// The `return` member of the reply to `name`; nil when the command failed
    /// or no reply came.
    public func result(_ name: String, _ arguments: JSONObject? = nil) -> JSONValue? {
        call(name, arguments)?["return"]
    }

    /// The error class and description of the reply to `name`: both nil when
    /// the command succeeded, so `#expect(... == ("GenericError", "..."))` reads
    /// as QEMU's error.
    public func errorPair(_ name: String, _ arguments: JSONObject? = nil) -> (String?, String?) {
        let error = call(name, arguments)?["error"]
        return (error?["class"]?.stringValue, error?["desc"]?.stringValue)
    }
}
