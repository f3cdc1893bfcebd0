import QMPWire

/// One command a VM answered, as the fleet page shows it: who asked, what,
/// when, how long it took, and the reply.
///
/// Holds the request and the result the command already produced (no
/// copy, no text): turning it into text is left to `pageJSON`, which runs
/// only when someone watches the VM.
struct CommandRecord {
    /// The VM's count of answered commands, from 1.
    let sequence: UInt64
    /// The client's session id; nil for a command run without a client
    /// (`qmpfleet-emulator`'s command line).
    let session: UInt64?
    let request: QMPRequest
    let result: CommandResult
    let answered: (seconds: Int64, microseconds: Int64)
    let nanoseconds: UInt64

    /// `{"seq", "client", "time", "ms", "request", "reply"}`, the request
    /// and reply as the QMP text on the wire, each cut to `textLimit` bytes.
    func pageJSON(textLimit: Int) -> String {
        var request = JSONObject()
        request["execute"] = .string(self.request.execute)
        if let arguments = self.request.arguments { request["arguments"] = .object(arguments) }
        if let id = self.request.id { request["id"] = id }
        var reply = JSONObject()
        switch result {
        case .success(let value):
            reply["return"] = value
        case .failure(let error):
            reply["error"] = .object(["class": .string(error.errorClass.rawValue), "desc": .string(error.desc)])
        }
        if let id = self.request.id { reply["id"] = id }
        var record = JSONObject()
        record["seq"] = .uint(sequence)
        record["client"] = session.map { .uint($0) } ?? .null
        record["time"] = .double(Double(answered.seconds) + Double(answered.microseconds) / 1e6)
        record["ms"] = .double(Double(nanoseconds) / 1e6)
        record["request"] = .string(Self.cut(JSONValue.object(request).jsonText, to: textLimit))
        record["reply"] = .string(Self.cut(JSONValue.object(reply).jsonText, to: textLimit))
        return JSONValue.object(record).jsonText
    }

    /// The first `limit` bytes (whole characters) and an ellipsis when longer.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var kept = ""
        var bytes = 0
        for character in text {
            bytes += character.utf8.count
            if bytes > limit { break }
            kept.append(character)
        }
        return kept + "…"
    }
}
