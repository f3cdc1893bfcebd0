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
    private var identity: UnsafeRawPointer?
    /// The reply without an id: `{"return": VALUE}\r\n`.
    private var reply: [UInt8] = []

    public init() {}

    /// `QMPMessage.success(value, id: id)`, from the stored text when
    /// `value` is the stored value.
    public mutating func success(_ value: JSONValue, id: JSONValue?) -> [UInt8] {
        guard let key = Self.identity(of: value) else { return QMPMessage.success(value, id: id) }
        if key != identity {
            let written = QMPMessage.success(value, id: nil)
            guard written.count <= Self.maxBytes else { return id == nil ? written : QMPMessage.success(value, id: id) }
            self.value = value
            identity = key
            reply = written
        }
        guard let id else { return reply }
        return QMPMessage.success(returnText: reply.dropLast(QMPMessage.replyEnd.count), id: id)
    }

    /// The address of an object's or array's storage; nil for scalars and
    /// empty containers (which share one empty storage and cost little to write).
    private static func identity(of value: JSONValue) -> UnsafeRawPointer? {
        switch value {
        case .object(let object):
            return object.members.withUnsafeBufferPointer { $0.isEmpty ? nil : UnsafeRawPointer($0.baseAddress) }
        case .array(let elements):
            return elements.withUnsafeBufferPointer { $0.isEmpty ? nil : UnsafeRawPointer($0.baseAddress) }
        default:
            return nil
        }
    }
}
