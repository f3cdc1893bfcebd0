/// The place of one request in flight among several of a session's
/// (`SessionHost.requestsInFlightLimit` above 1): its reply line, kept
/// until every request before it has been answered, so a client reads its
/// replies in the order it sent the requests, as from a QEMU monitor.
///
/// Loop-confined, as its session is.
final class ReplySlot {
    /// The request was answered (`line` is nil when its reply is dropped).
    var isAnswered = false
    /// The reply line, once answered.
    var line: [UInt8]?
}
