import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// A session's transport over an accepted unix-socket connection.
public final class ConnectionTransport: SessionTransport {
    public let connection: UnixConnection

    public init(connection: UnixConnection) { self.connection = connection }

    /// Wires the connection's input to `session` and its close to the
    /// session's teardown.
    ///
    /// The callbacks hold the session strongly: a weak reference would give
    /// it a side table, and every retain and release of it (several per
    /// request) would take the slow path (docs/performance.md). The cycle
    /// (connection, callback, session, transport) ends when the connection
    /// closes, which drops its callbacks: the session's own close, the
    /// peer's, or the end of a final flush.
    public func attach(to session: Session) {
        connection.onFileDescriptors = { fds in session.receive(fileDescriptors: fds) }
        connection.onBytes = { bytes in session.receive(bytes) }
        connection.onClose = { session.transportDidClose() }
        connection.onEndOfInput = { peerClosed in session.inputDidEnd(peerClosed: peerClosed) }
        connection.onWriteStall = { session.outputDidStall() }
        connection.onOutputDrained = { session.outputDidDrain() }
        if let limits = session.host?.sessionLimits {
            connection.writeStallTimeoutMilliseconds = limits.sessionOutputStallMilliseconds
            connection.finalFlushTimeoutMilliseconds = limits.finalFlushMilliseconds
        }
    }

    public func send(_ bytes: [UInt8]) { connection.write(bytes) }
    public func sendEvent(_ bytes: [UInt8], queuedLimit limit: Int) -> Bool {
        connection.writeShared(bytes, queuedLimit: limit)
    }
    public var pendingOutputBytes: Int { connection.pendingWriteBytes }
    public func pauseInput() { connection.pauseReading() }
    public func resumeInput() { connection.resumeReading() }
    public func close() { connection.close() }
    public func closeAfterFlush() { connection.closeAfterFlush() }
}
