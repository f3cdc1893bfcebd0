import QMPWire
import UVLoop

/// What a session is attached to: a VM, a proxied VM, or the fleet's
/// control socket.
///
/// A session does the per-client protocol (greeting, negotiation, ordering,
/// output limits); its host owns the commands.
public protocol SessionHost: AnyObject {
    /// The greeting line a new client gets.
    var greeting: [UInt8] { get }
    /// The session's bounds (FleetCore: the fleet's `Limits.session`).
    var sessionLimits: SessionLimits { get }
    /// Runs the session's timers (the negotiation deadline).
    var scheduler: any Scheduler { get }
    /// The fleet-wide budget of partial messages (`parser-bytes-per-fleet`).
    var parserMemory: ParserMemoryBudget { get }
    /// Checks `qmp_capabilities`' arguments (the same schema check as any
    /// command) and reads what the client asked for.
    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError>
    /// Runs one command of a negotiated session. `complete` is called exactly
    /// once, now or later; a plugin's answer may come as text already in
    /// QEMU's form (`QMPReply.encoded`), which the session writes as it is.
    func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void)
    /// The session is gone (client left, or it was closed).
    func sessionDidClose(_ session: Session)
}
