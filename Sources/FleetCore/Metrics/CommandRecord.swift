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
    /// A request or reply as kept: the value the command had anyway, or
    /// the cut text of a large one.
    enum Kept<Value> {
        case value(Value)
        case text(String)
    }

    /// The VM's count of answered commands, from 1.
    let sequence: UInt64
    /// The client's session id; nil for a command run without a client
    /// (`qmpfleet-emulator`'s command line).
    let session: UInt64?
    let request: Kept<QMPRequest>
    let reply: Kept<QMPReply>
    /// The request's id, which the reply echoes.
    let id: JSONValue?
    /// When it was answered, on CLOCK_MONOTONIC (the reading its latency
    /// was taken with): made wall time only when the page reads it, which
    /// saves a `CLOCK_REALTIME` read per command.
    let answeredAt: UInt64
    let nanoseconds: UInt64

    /// Keeps `request` and `result` as they are (no copy, no allocation)
    /// unless one is larger than `textLimit`: that one is kept as its cut text.
    /// `replyIsSmall`: the caller knows a `.success` value is within
    /// `textLimit` (`VMObservation` remembers the last one it measured),
    /// so it is not walked again.
    init(sequence: UInt64, session: UInt64?, request: QMPRequest, result: QMPReply,
         answeredAt: UInt64, nanoseconds: UInt64, textLimit: Int, replyIsSmall: Bool = false) {
        self.sequence = sequence
        self.session = session
        self.id = request.id
        if let arguments = request.arguments, Self.isLarger(.object(arguments), than: textLimit) {
            self.request = .text(Self.cut(Self.requestJSON(Self.shortened(request, to: textLimit)).jsonPrefix(atMost: textLimit), to: textLimit))
        } else {
            self.request = .value(request)
        }
        switch result {
        case .encoded(let text) where text.bytes.count > textLimit:
            // ASCII in QEMU's form, already: the cut text is its first bytes.
            self.reply = .text(Self.cut(String(decoding: Array(#"{"return": "#.utf8) + text.bytes.prefix(textLimit), as: UTF8.self), to: textLimit))
        case .success(let value) where !replyIsSmall && Self.isLarger(value, than: textLimit):
            self.reply = .text(Self.cutReply(.success(value), id: request.id, to: textLimit))
        case .failure(let error) where error.desc.utf8.count > textLimit:
            self.reply = .text(Self.cutReply(.failure(error), id: request.id, to: textLimit))
        default:
            self.reply = .value(result)
        }
        self.answeredAt = answeredAt
        self.nanoseconds = nanoseconds
    }

    /// A large reply's text, cut to `limit` bytes.
    private static func cutReply(_ result: CommandResult, id: JSONValue?, to limit: Int) -> String {
        cut(replyJSON(shortened(result, to: limit), id: id.map { shortened($0, to: limit) }).jsonPrefix(atMost: limit), to: limit)
    }

    /// The request as the client sent it: `{"execute", "arguments", "id"}`.
    static func requestJSON(_ request: QMPRequest) -> JSONValue {
        var object = JSONObject()
        object["execute"] = .string(request.execute)
        if let arguments = request.arguments { object["arguments"] = .object(arguments) }
        if let id = request.id { object["id"] = id }
        return .object(object)
    }

    /// The reply as the client got it: `{"return"}` or `{"error"}`, and the id.
    static func replyJSON(_ result: CommandResult, id: JSONValue?) -> JSONValue {
        var object = JSONObject()
        switch result {
        case .success(let value):
            object["return"] = value
        case .failure(let error):
            object["error"] = .object(["class": .string(error.errorClass.rawValue), "desc": .string(error.desc)])
        }
        if let id { object["id"] = id }
        return .object(object)
    }

    /// `{"seq", "client", "time", "ms", "request", "reply"}`, the request
    /// and reply as the QMP text on the wire, each cut to `textLimit` bytes.
    func pageJSON(textLimit: Int) -> String {
        var record = JSONObject()
        record["seq"] = .uint(sequence)
        record["client"] = session.map { .uint($0) } ?? .null
        record["time"] = .double(WallClock.seconds(atMonotonic: answeredAt))
        record["ms"] = .double(Double(nanoseconds) / 1e6)
        switch request {
        case .value(let request): record["request"] = .string(Self.cut(Self.requestJSON(request).jsonPrefix(atMost: textLimit), to: textLimit))
        case .text(let text): record["request"] = .string(text)
        }
        switch reply {
        case .value(.encoded(let text)):
            record["reply"] = .string(Self.cut(String(decoding: QMPMessage.success(encoded: text, id: id).dropLast(2), as: UTF8.self), to: textLimit))
        case .value(let result): record["reply"] = .string(Self.cut(Self.replyJSON(result.result, id: id).jsonPrefix(atMost: textLimit), to: textLimit))
        case .text(let text): record["reply"] = .string(text)
        }
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

    /// Bytes kept past the limit when a long string is shortened: the text
    /// must go on past `limit` (so `cut` still adds its ellipsis), and a
    /// character (grapheme) that straddles the limit must stay whole.
    static let shortenedSlack = 64

    /// `request` with every string longer than `limit + shortenedSlack`
    /// bytes shortened to that many (whole scalars): a string's text is a
    /// prefix of the whole string's, so the cut text is the same, but a
    /// 1 MiB argument is not written out to keep its first kilobyte.
    static func shortened(_ request: QMPRequest, to limit: Int) -> QMPRequest {
        var request = request
        if let arguments = request.arguments, case .object(let short) = shortened(.object(arguments), to: limit) {
            request.arguments = short
        }
        request.id = request.id.map { shortened($0, to: limit) }
        return request
    }

    static func shortened(_ result: CommandResult, to limit: Int) -> CommandResult {
        result.map { shortened($0, to: limit) }
    }

    /// `value` with its long strings shortened (see `shortened(_:to:)`).
    /// Members and elements stay: their count is bounded by the message.
    static func shortened(_ value: JSONValue, to limit: Int) -> JSONValue {
        let keep = limit &+ shortenedSlack
        switch value {
        case .string(let string) where string.utf8.count > keep:
            let utf8 = string.utf8
            var end = utf8.index(utf8.startIndex, offsetBy: keep)
            while end > utf8.startIndex && UTF8.isContinuation(utf8[end]) { utf8.formIndex(before: &end) }
            return .string(String(utf8[..<end]) ?? "")
        case .array(let elements):
            return .array(elements.map { shortened($0, to: limit) })
        case .object(let object):
            var short = JSONObject(minimumCapacity: object.count)
            for member in object.members { short.appendUnchecked(member.key, shortened(member.value, to: limit)) }
            return .object(short)
        default:
            return value
        }
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
