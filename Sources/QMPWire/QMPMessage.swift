/// The version a QMP server reports in its greeting and `query-version`.
public struct QEMUVersion: Sendable, Equatable {
    public var major: Int
    public var minor: Int
    public var micro: Int
    /// QEMU's `package` string (e.g. "Debian 1:7.2+dfsg-7"); empty for upstream builds.
    public var package: String

    public init(major: Int, minor: Int, micro: Int, package: String = "") {
        self.major = major
        self.minor = minor
        self.micro = micro
        self.package = package
    }

    public static let default72 = QEMUVersion(major: 7, minor: 2, micro: 0, package: "")
}

/// Complete QMP output lines, as QEMU writes them: one JSON object, then `\r\n`.
///
/// ```swift
/// QMPMessage.success(.object([:]), id: "a")   // {"return": {}, "id": "a"}\r\n
/// QMPMessage.failure(.generic("x"), id: "a")  // {"id": "a", "error": {"class": "GenericError", "desc": "x"}}\r\n
/// ```
public enum QMPMessage {
    private static func line(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 128)
        writer.write(value)
        writer.writeRaw("\r\n".utf8)
        return writer.bytes
    }

    public static func greeting(version: QEMUVersion, capabilities: [String] = ["oob"]) -> [UInt8] {
        line([
            "QMP": [
                "version": [
                    "qemu": ["major": .int(Int64(version.major)), "minor": .int(Int64(version.minor)), "micro": .int(Int64(version.micro))],
                    "package": .string(version.package),
                ],
                "capabilities": .array(capabilities.map { .string($0) }),
            ],
        ])
    }

    public static func success(_ result: JSONValue, id: JSONValue?) -> [UInt8] {
        var object: JSONObject = ["return": result]
        if let id { object["id"] = id }
        return line(.object(object))
    }

    public static func failure(_ error: QMPError, id: JSONValue?) -> [UInt8] {
        var object: JSONObject = ["error": ["class": .string(error.errorClass.rawValue), "desc": .string(error.desc)]]
        if let id { object["id"] = id }
        return line(.object(object))
    }

    public static func event(_ name: String, data: JSONObject?, seconds: Int64, microseconds: Int64) -> [UInt8] {
        var object: JSONObject = [
            "event": .string(name),
            "timestamp": ["seconds": .int(seconds), "microseconds": .int(microseconds)],
        ]
        if let data { object["data"] = .object(data) }
        return line(.object(object))
    }
}
