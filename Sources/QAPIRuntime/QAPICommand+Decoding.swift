import QMPWire

extension QAPICommand {
    /// The checked members decoded, or the error generated code found: how
    /// the core's and the control socket's command bindings call a handler.
    package static func decoding(_ members: JSONObject) -> Result<Self, QMPError> {
        Result { () throws(QMPError) in try Self(arguments: members) }
    }
}
