import QMPWire

/// A command's arguments, generated from its schema declaration: the name it
/// is bound to and its members, typed. The host has checked the request
/// against the schema before the plugin sees it; decoding gives the handler
/// the members without a default standing in for a missing one.
public protocol QAPICommand: QAPIObject {
    static var qapiName: String { get }
}

extension QAPICommand {
    /// Decodes a request's arguments (`{}` when it had none). Inlinable, so
    /// a binding's call is specialized for its command (see `decoding`).
    @inlinable
    public init(arguments: JSONObject) throws(QMPError) {
        try self.init(qapiMembers: arguments, at: .root)
    }
}
