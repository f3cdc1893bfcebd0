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
///
/// The member orders are QEMU's QDict orders (`QDictOrder`) of these keys,
/// written out directly because these lines are the hot path: "return"
/// before "id", but "id" before "error"; "timestamp", "event", "data";
/// "class" before "desc"; "seconds" before "microseconds"; the greeting's
/// "micro", "minor", "major", and "version" before "capabilities".
public enum QMPMessage {
    public static func greeting(version: QEMUVersion, capabilities: [String] = ["oob"]) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: 160)
        w.writeRaw(#"{"QMP": {"version": {"qemu": {"micro": "#.utf8)
        w.write(.int(Int64(version.micro)))
        w.writeRaw(#", "minor": "#.utf8)
        w.write(.int(Int64(version.minor)))
        w.writeRaw(#", "major": "#.utf8)
        w.write(.int(Int64(version.major)))
        w.writeRaw(#"}, "package": "#.utf8)
        w.write(.string(version.package))
        w.writeRaw(#"}, "capabilities": "#.utf8)
        w.write(.array(capabilities.map { .string($0) }))
        w.writeRaw("}}\r\n".utf8)
        return w.bytes
    }

    public static func success(_ result: JSONValue, id: JSONValue?) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: 128)
        w.writeRaw(#"{"return": "#.utf8)
        w.write(result)
        if let id {
            w.writeRaw(#", "id": "#.utf8)
            w.write(id)
        }
        w.writeRaw("}\r\n".utf8)
        return w.bytes
    }

    /// A success reply around a `return` value that is already text in
    /// QEMU's form: its bytes are copied in, not parsed and written again.
    public static func success(encoded result: CanonicalJSON, id: JSONValue?) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: result.bytes.count + 48)
        w.writeRaw(#"{"return": "#.utf8)
        w.writeRaw(result.bytes)
        if let id {
            w.writeRaw(#", "id": "#.utf8)
            w.write(id)
        }
        w.writeRaw(replyEnd)
        return w.bytes
    }

    /// The line for any answer: `success`, `success(encoded:)` or `failure`.
    public static func reply(_ reply: QMPReply, id: JSONValue?) -> [UInt8] {
        switch reply {
        case .success(let value): return success(value, id: id)
        case .encoded(let text): return success(encoded: text, id: id)
        case .failure(let error): return failure(error, id: id)
        }
    }

    /// What ends every reply: `}` and QEMU's `\r\n`.
    static let replyEnd = Array("}\r\n".utf8)

    /// A success reply from the text of one without an id (`{"return": VALUE`,
    /// its end cut off): `QMPReplyCache`'s path, the value written once.
    static func success(returnText: ArraySlice<UInt8>, id: JSONValue) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: returnText.count + 32)
        w.writeRaw(returnText)
        w.writeRaw(#", "id": "#.utf8)
        w.write(id)
        w.writeRaw(replyEnd)
        return w.bytes
    }

    public static func failure(_ error: QMPError, id: JSONValue?) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: 128)
        w.writeRaw("{".utf8)
        if let id {
            w.writeRaw(#""id": "#.utf8)
            w.write(id)
            w.writeRaw(", ".utf8)
        }
        w.writeRaw(#""error": {"class": "#.utf8)
        w.write(.string(error.errorClass.rawValue))
        w.writeRaw(#", "desc": "#.utf8)
        w.write(.string(error.desc))
        w.writeRaw("}}\r\n".utf8)
        return w.bytes
    }

    public static func event(_ name: String, data: JSONObject?, seconds: Int64, microseconds: Int64) -> [UInt8] {
        var w = eventHead(name, seconds: seconds, microseconds: microseconds, reserving: 128)
        if let data {
            w.writeRaw(#", "data": "#.utf8)
            w.write(.object(data))
        }
        w.writeRaw("}\r\n".utf8)
        return w.bytes
    }

    /// An event whose `data` object is already text in QEMU's form (a
    /// plugin's event), copied in as it is.
    public static func event(_ name: String, encodedData data: CanonicalJSON, seconds: Int64, microseconds: Int64) -> [UInt8] {
        var w = eventHead(name, seconds: seconds, microseconds: microseconds, reserving: data.bytes.count + 112)
        w.writeRaw(#", "data": "#.utf8)
        w.writeRaw(data.bytes)
        w.writeRaw("}\r\n".utf8)
        return w.bytes
    }

    /// `{"timestamp": {...}, "event": NAME`, the start of every event.
    private static func eventHead(_ name: String, seconds: Int64, microseconds: Int64, reserving capacity: Int) -> JSONWriter {
        var w = JSONWriter(reservingCapacity: capacity)
        w.writeRaw(#"{"timestamp": {"seconds": "#.utf8)
        w.write(.int(seconds))
        w.writeRaw(#", "microseconds": "#.utf8)
        w.write(.int(microseconds))
        w.writeRaw(#"}, "event": "#.utf8)
        w.write(.string(name))
        return w
    }
}
