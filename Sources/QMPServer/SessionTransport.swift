/// Where a session's output goes and how its input is throttled.
///
/// Two implementations: a unix-socket connection in a running fleet
/// (`ConnectionTransport`), and an in-memory pipe in QMPFleetTesting, so the
/// same `Session` code runs under tests without sockets.
public protocol SessionTransport: AnyObject {
    /// Queues bytes to the client, in order.
    func send(_ bytes: [UInt8])
    /// Queues an event's bytes, the same array every client of the VM gets,
    /// in order with `send`: a transport that can share one copy among its
    /// loop's clients does (`ConnectionTransport`); the others `send` it.
    func sendEvent(_ bytes: [UInt8])
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
    public func sendEvent(_ bytes: [UInt8]) { send(bytes) }
}
