/// The check a client's output queue makes against its limit before it
/// takes an event: in one place for every transport (`UnixConnection`,
/// `CrossLoopWriter`, QMPServer's `SessionTransport`), so that each checks
/// in the module that owns the count (a read of another module's stored
/// counter is a dynamic exclusivity check, even where the owner opted out:
/// one per client per event, docs/performance.md, "One event to 1,000
/// clients (session 11)").
public enum OutputBudget {
    /// Whether a queue holding `queued` bytes takes `count` more within
    /// `limit`, written so that no sum can overflow.
    @inlinable
    public static func admits(_ count: Int, queued: Int, limit: Int) -> Bool {
        queued < limit && count <= limit - queued
    }
}
