import QMPWire

/// One command a VM answered, as the fleet page shows it: who asked, what,
/// when, how long it took, and the reply.
///
/// A small request or reply is kept as the value the command already
/// produced (no copy, no text: text is made by `pageJSON`, only when
/// someone watches the VM). One larger than the page shows
/// (`page-text-bytes`) is kept as its cut text instead, so a VM's history
/// never holds a `query-commands` reply whole: each record is bounded.
struct CommandRecord {
    /// A request or reply as kept: the value, or the cut text of a large one.
    enum Kept {
        case value(JSONValue)
        case text(String)

        init(_ value: JSONValue, limit: Int) {
            self = CommandRecord.isLarger(value, than: limit) ? .text(CommandRecord.cut(value.jsonText, to: limit)) : .value(value)
        }

        func text(limit: Int) -> String {
            switch self {
            case .value(let value): return CommandRecord.cut(value.jsonText, to: limit)
            case .text(let text): return text
            }
        }
    }

    /// The VM's count of answered commands, from 1.
    let sequence: UInt64
    /// The client's session id; nil for a command run without a client
    /// (`qmpfleet-emulator`'s command line).
    let session: UInt64?
    let request: Kept
    let reply: Kept
    let answered: (seconds: Int64, microseconds: Int64)
    let nanoseconds: UInt64

    init(sequence: UInt64, session: UInt64?, request: QMPRequest, result: CommandResult,
         answered: (seconds: Int64, microseconds: Int64), nanoseconds: UInt64, textLimit: Int) {
        self.sequence = sequence
        self.session = session
        var requestObject = JSONObject()
        requestObject["execute"] = .string(request.execute)
        if let arguments = request.arguments { requestObject["arguments"] = .object(arguments) }
        if let id = request.id { requestObject["id"] = id }
        self.request = Kept(.object(requestObject), limit: textLimit)
        var replyObject = JSONObject()
        switch result {
        case .success(let value):
            replyObject["return"] = value
        case .failure(let error):
            replyObject["error"] = .object(["class": .string(error.errorClass.rawValue), "desc": .string(error.desc)])
        }
        if let id = request.id { replyObject["id"] = id }
        self.reply = Kept(.object(replyObject), limit: textLimit)
        self.answered = answered
        self.nanoseconds = nanoseconds
    }

    /// `{"seq", "client", "time", "ms", "request", "reply"}`, the request
    /// and reply as the QMP text on the wire, each cut to `textLimit` bytes.
    func pageJSON(textLimit: Int) -> String {
        var record = JSONObject()
        record["seq"] = .uint(sequence)
        record["client"] = session.map { .uint($0) } ?? .null
        record["time"] = .double(Double(answered.seconds) + Double(answered.microseconds) / 1e6)
        record["ms"] = .double(Double(nanoseconds) / 1e6)
        record["request"] = .string(request.text(limit: textLimit))
        record["reply"] = .string(reply.text(limit: textLimit))
        return JSONValue.object(record).jsonText
    }

    /// Whether `value`'s text would be over `limit` bytes, by a walk that
    /// stops as soon as it is (so a large reply costs no more than a small one).
    static func isLarger(_ value: JSONValue, than limit: Int) -> Bool {
        var budget = limit
        func over(_ value: JSONValue) -> Bool {
            switch value {
            case .null, .bool, .int, .uint, .double:
                budget -= 8
            case .string(let string):
                budget -= string.utf8.count + 4
            case .array(let elements):
                budget -= 2
                for element in elements where over(element) { return true }
            case .object(let object):
                budget -= 2
                for member in object.members {
                    budget -= member.key.utf8.count + 4
                    if over(member.value) { return true }
                }
            }
            return budget < 0
        }
        return over(value)
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
