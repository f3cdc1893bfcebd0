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
    public func attach(to session: Session) {
        connection.onFileDescriptors = { [weak session] fds in
            if let session { session.receive(fileDescriptors: fds) } else { for fd in fds { Glibc.close(fd) } }
        }
        connection.onBytes = { [weak session] bytes in session?.receive(bytes) }
        connection.onClose = { [weak session] in session?.transportDidClose() }
        connection.onEndOfInput = { [weak session] peerClosed in session?.inputDidEnd(peerClosed: peerClosed) }
        connection.onWriteStall = { [weak session] in session?.outputDidStall() }
        connection.onOutputDrained = { [weak session] in session?.outputDidDrain() }
        if let limits = session.host?.sessionLimits {
            connection.writeStallTimeoutMilliseconds = limits.sessionOutputStallMilliseconds
            connection.finalFlushTimeoutMilliseconds = limits.finalFlushMilliseconds
        }
    }

    public func send(_ bytes: [UInt8]) { connection.write(bytes) }
    public var pendingOutputBytes: Int { connection.pendingWriteBytes }
    public func pauseInput() { connection.pauseReading() }
    public func resumeInput() { connection.resumeReading() }
    public func close() { connection.close() }
    public func closeAfterFlush() { connection.closeAfterFlush() }
}
