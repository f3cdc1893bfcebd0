/// What sessions count as they run, on their loop's thread only: FleetCore's
/// `LoopMetrics` is one (a subclass, so a session adds to a stored field
/// with no call between: the fields are final). They are
/// `@exclusivity(unchecked)`: one thread adds to them and no access is held
/// across a call, and an event to 1,000 clients checked two of them per
/// client (docs/performance.md, "One event to 1,000 clients (session 11)").
open class SessionMetrics {
    /// Event lines queued to clients.
    @exclusivity(unchecked) final package var eventsSent: UInt64 = 0
    @exclusivity(unchecked) final package var bytesIn: UInt64 = 0
    @exclusivity(unchecked) final package var bytesOut: UInt64 = 0
    /// Clients disconnected for not reading their output.
    @exclusivity(unchecked) final package var clientsDroppedNotReading: UInt64 = 0

    public init() {}
}
