import QMPWire

/// What the fleet page watches of one VM: its command history, and the
/// watchers to tell, as it happens, of each command answered and each
/// event sent.
///
/// Loop-confined to the VM's loop (so `history` and `watchers` skip the
/// dynamic exclusivity checks that cost every command, docs/performance.md). Watchers get text (JSON made here, on
/// the VM's loop, only while someone watches) through a closure that
/// hands it to their own loop.
final class VMObservation {
    /// What a watcher is told.
    enum Activity: Sendable {
        /// A command's `CommandRecord.pageJSON`.
        case command(String)
        /// An event as sent to clients (one JSON line).
        case event(String)
        /// The VM has ended; nothing more follows.
        case ended
    }

    @exclusivity(unchecked) private(set) var history: CommandHistory
    @exclusivity(unchecked) private var watchers: [UInt64: (Activity) -> Void] = [:]
    let textLimit: Int

    init(historyCapacity: Int, textLimit: Int) {
        history = CommandHistory(capacity: historyCapacity)
        self.textLimit = textLimit
    }

    var isWatched: Bool { !watchers.isEmpty }

    /// The last `.success` value found within `textLimit`, held so that its
    /// storage's address names it alone (`JSONValue.storageIdentity`): a
    /// constant query's reply (`query-status`'s stored value) is measured
    /// once, not walked per command (2 % of a pipelined `query-status`).
    @exclusivity(unchecked) private var smallReply: JSONValue = .null
    @exclusivity(unchecked) private var smallReplyIdentity: UnsafeRawPointer?

    func record(session: UInt64?, request: QMPRequest, result: QMPReply, answeredAt: UInt64, nanoseconds: UInt64) {
        guard history.capacity > 0 || !watchers.isEmpty else { return }
        var replyIsSmall = false
        if case .success(let value) = result, let identity = value.storageIdentity {
            if identity == smallReplyIdentity {
                replyIsSmall = true
            } else if !CommandRecord.isLarger(value, than: textLimit) {
                smallReply = value
                smallReplyIdentity = identity
                replyIsSmall = true
            }
        }
        let record = CommandRecord(sequence: history.nextSequence(), session: session, request: request, result: result,
                                   answeredAt: answeredAt, nanoseconds: nanoseconds, textLimit: textLimit, replyIsSmall: replyIsSmall)
        guard !watchers.isEmpty else { return history.append(record) }
        history.append(record)
        let text = record.pageJSON(textLimit: textLimit)
        for watcher in watchers.values { watcher(.command(text)) }
    }

    func eventSent(_ bytes: [UInt8]) {
        guard !watchers.isEmpty else { return }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last?.isNewline == true { text.removeLast() }
        for watcher in watchers.values { watcher(.event(text)) }
    }

    /// Adds a watcher; returns the history as it is now, oldest first.
    func watch(_ token: UInt64, _ watcher: @escaping (Activity) -> Void) -> [String] {
        watchers[token] = watcher
        return history.records.map { $0.pageJSON(textLimit: textLimit) }
    }

    func unwatch(_ token: UInt64) {
        watchers[token] = nil
    }

    /// The VM ended: every watcher is told, then forgotten.
    func ended() {
        for watcher in watchers.values { watcher(.ended) }
        watchers.removeAll()
    }
}
