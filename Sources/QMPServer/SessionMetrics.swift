/// What sessions count as they run, on their loop's thread only: FleetCore's
/// `LoopMetrics` is one (a subclass, so a session adds to a stored field
/// with no call between: the fields are final).
open class SessionMetrics {
    /// Event lines queued to clients.
    final package var eventsSent: UInt64 = 0
    final package var bytesIn: UInt64 = 0
    final package var bytesOut: UInt64 = 0
    /// Clients disconnected for not reading their output.
    final package var clientsDroppedNotReading: UInt64 = 0

    public init() {}
}
