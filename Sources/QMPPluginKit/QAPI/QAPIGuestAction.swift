import QMPWire

extension PluginRegistry {
    /// A guest action with arguments typed by its schema declaration: the
    /// host refuses a call its member map does not allow before the handler
    /// runs, with QEMU's texts, as it does a command's.
    public func guestAction<A: QAPIGuestAction>(_ action: A.Type, _ body: @escaping (P, A) -> Result<JSONValue, QMPError>) {
        guestAction(A.qapiName, argumentsText: A.qapiArguments) { this, args in
            Result { () throws(QMPError) in try A(qapiMembers: args, at: .root) }.flatMap { body(this, $0) }
        }
    }

    /// A guest action whose handler throws its QMP error.
    public func guestAction<A: QAPIGuestAction>(_ action: A.Type, throwing body: @escaping (P, A) throws(QMPError) -> JSONValue) {
        guestAction(A.qapiName, argumentsText: A.qapiArguments) { this, args in
            Result { () throws(QMPError) in try body(this, try A(qapiMembers: args, at: .root)) }
        }
    }
}
