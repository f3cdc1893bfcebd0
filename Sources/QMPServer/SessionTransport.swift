import UVLoop

/// Where a session's output goes and how its input is throttled.
///
/// Two implementations: a unix-socket connection in a running fleet
/// (`ConnectionTransport`), and an in-memory pipe in QMPFleetTesting, so the
/// same `Session` code runs under tests without sockets.
public protocol SessionTransport: AnyObject {
    /// Queues bytes to the client, in order.
    func send(_ bytes: [UInt8])
    /// Queues an event's bytes, the same array every client of the VM gets,
    /// in order with `send`, unless the bytes queued and these would pass
    /// `limit`: then it queues nothing and returns false (the client is too
    /// far behind). A transport that can share one copy among its loop's
    /// clients does (`ConnectionTransport`); the others `send` it. One call
    /// for the check and the write: an event to 1,000 clients made two
    /// calls through this protocol per client (docs/performance.md, "One
    /// event to 1,000 clients (session 11)").
    func sendEvent(_ bytes: [UInt8], queuedLimit limit: Int) -> Bool
    /// Bytes queued and not yet taken by the client.
    var pendingOutputBytes: Int { get }
    /// Stops delivering input until `resumeInput()`.
    func pauseInput()
    func resumeInput()
    /// Closes the connection; no callbacks follow.
    func close()
    /// Closes the connection once queued output is written.
    func closeAfterFlush()
}

extension SessionTransport {
    public func sendEvent(_ bytes: [UInt8], queuedLimit limit: Int) -> Bool {
        guard OutputBudget.admits(bytes.count, queued: pendingOutputBytes, limit: limit) else { return false }
        send(bytes)
        return true
    }
}
