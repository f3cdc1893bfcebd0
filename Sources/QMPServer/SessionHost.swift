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
    /// How many in-band requests of one session may be in flight at once.
    /// 1 for a VM, as a QEMU monitor runs one at a time; the control socket
    /// lets independent `vm-create`s overlap (`control-requests-in-flight`),
    /// so one VM made on another loop does not leave its own loop idle.
    /// Replies still leave in request order (`ReplySlot`).
    var requestsInFlightLimit: Int { get }
    /// Runs `call` as a request others may run beside (with
    /// `requestsInFlightLimit` above 1), if the host knows it independent
    /// of any other request so taken: its outcome the same as had each
    /// waited its turn. `complete` as for `dispatch`. Returns false, having
    /// done nothing and called nothing, when it is not such a request: it
    /// then runs by `dispatch` once nothing is in flight, and nothing
    /// starts beside it.
    func dispatchAlongside(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) -> Bool
    /// The session is in command mode (`qmp_capabilities` succeeded): from
    /// now on it gets the host's events (`EventReceivers.add`).
    func sessionDidNegotiate(_ session: Session)
    /// The session is gone (client left, or it was closed).
    func sessionDidClose(_ session: Session)
    /// The number and stored name of the command whose name is `bytes` in
    /// the table `dispatch` finds commands in, or nil. A session asks for
    /// each request it recognised in its read buffer (`ScannedRequest`):
    /// the name is then a copy of the table's, not decoded and checked as
    /// UTF-8 again, and `dispatch` takes the number back from
    /// `QMPRequest.commandNumber` instead of looking the name up a second
    /// time. A host without a table of its own (a proxied VM) has the
    /// default, nil.
    func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)?
}

extension SessionHost {
    /// One request at a time, as QEMU's monitor.
    public var requestsInFlightLimit: Int { 1 }
    public func dispatchAlongside(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) -> Bool { false }
    /// A host without events (the control socket) need not know.
    public func sessionDidNegotiate(_ session: Session) {}
    /// No table: the session decodes the name, `dispatch` looks it up.
    public func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? { nil }
}
