/// The last success reply written for one client, kept with its value, so
/// a command that answers with the very same value again costs no
/// serializing: a constant query (`query-status` while the run state stays,
/// `RunState.statusInfo`) returns one stored value until its state changes,
/// and the session sends the bytes it wrote for it the first time.
///
/// "The very same" is the value's storage, not an equal copy: the cache
/// holds the value, so its storage stays alive and unchanged (a copy-on-write
/// mutation anywhere else makes a new one), and an address match can only be
/// that value. Comparing pointers costs nothing on a miss; comparing equal
/// copies would cost as much as writing them.
///
/// ```swift
/// var cache = QMPReplyCache()
/// let info: JSONValue = ["status": "running"]
/// cache.success(info, id: nil)     // written: {"return": {"status": "running"}}\r\n
/// cache.success(info, id: nil)     // the same bytes, not written again
/// cache.success(info, id: 7)       // the stored text, then "id": 7
/// ```
public struct QMPReplyCache {
    /// Replies longer than this are not kept (a session holds at most one).
    public static let maxBytes = 4096

    private var value: JSONValue = .null
    /// Or the plugin's text it was written from (`success(encoded:id:)`).
    private var text: CanonicalJSON?
    private var identity: UnsafeRawPointer?
    /// The reply without an id: `{"return": VALUE}\r\n`.
    private var reply: [UInt8] = []

    public init() {}

    /// `QMPMessage.success(value, id: id)`, from the stored text when
    /// `value` is the stored value.
    public mutating func success(_ value: JSONValue, id: JSONValue?) -> [UInt8] {
        guard let key = value.storageIdentity else { return QMPMessage.success(value, id: id) }
        return cached(key, id: id, holding: value, nil) { QMPMessage.success(value, id: $0) }
    }

    /// `QMPMessage.success(encoded: text, id: id)`, from the stored line
    /// when `text` is the stored text: a plugin's answer that the host
    /// found equal to the one it checked before hands the same storage
    /// (`PluginInstance.canonicalReply`), so a query whose state did not
    /// change costs no copy into a new line. The same rule as for values:
    /// the cache holds the text, so an address match can only be that text.
    public mutating func success(encoded text: CanonicalJSON, id: JSONValue?) -> [UInt8] {
        guard let key = text.bytes.withUnsafeBufferPointer({ $0.isEmpty ? nil : UnsafeRawPointer($0.baseAddress) }) else {
            return QMPMessage.success(encoded: text, id: id)
        }
        return cached(key, id: id, holding: .null, text) { QMPMessage.success(encoded: text, id: $0) }
    }

    /// The reply whose storage is at `key`: the stored line (with `id` put
    /// in) while `key` is the stored one, else `write`'s line, kept with
    /// what it was written from (`value` or `text`, so the address stays
    /// theirs) when it is at most `maxBytes`.
    @inline(__always)
    private mutating func cached(_ key: UnsafeRawPointer, id: JSONValue?, holding value: JSONValue, _ text: CanonicalJSON?,
                                 write: (_ id: JSONValue?) -> [UInt8]) -> [UInt8] {
        if key != identity {
            let written = write(nil)
            guard written.count <= Self.maxBytes else { return id == nil ? written : write(id) }
            self.value = value
            self.text = text
            identity = key
            reply = written
        }
        guard let id else { return reply }
        return QMPMessage.success(returnText: reply.dropLast(QMPMessage.replyEnd.count), id: id)
    }
}

extension JSONValue {
    /// The address of an object's or array's storage; nil for scalars and
    /// empty containers (which share one empty storage and cost little to
    /// write). While a holder keeps the value, no other live value has
    /// that address: what `QMPReplyCache` keys on, and `VMObservation`.
    public var storageIdentity: UnsafeRawPointer? {
        switch self {
        case .object(let object):
            return object.members.withUnsafeBufferPointer { $0.isEmpty ? nil : UnsafeRawPointer($0.baseAddress) }
        case .array(let elements):
            return elements.withUnsafeBufferPointer { $0.isEmpty ? nil : UnsafeRawPointer($0.baseAddress) }
        default:
            return nil
        }
    }
}
