import QAPIRuntime
import QAPISchema
import QMPServer
import QMPWire

/// `qmp_capabilities` for every session host (a VM, a proxied VM, the
/// control socket): its arguments checked against the host's declaration,
/// as any command's are, then read through the core's generated type (the
/// control schema declares the same members).
package enum CapabilityNegotiation {
    package static func negotiate(_ arguments: JSONObject?, schema: SchemaView?) -> Result<NegotiatedCapabilities, QMPError> {
        let checked: Result<JSONObject, QMPError>
        if let schema, let (declaration, _) = schema.command("qmp_capabilities") {
            checked = schema.checkArguments(of: declaration, arguments)
        } else {
            checked = .success(arguments ?? JSONObject())
        }
        return checked.flatMap { members in
            Result { () throws(QMPError) in try QAPI.QmpCapabilitiesCommand(arguments: members) }
        }.map { NegotiatedCapabilities(outOfBand: $0.enable?.contains(.oob) ?? false) }
    }
}
