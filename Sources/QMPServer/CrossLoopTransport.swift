import UVLoop

/// A session's transport whose reading stays on the session's loop and
/// whose writing another loop does (`CrossLoopWriter`): what lets the
/// clients of one busy VM past `clients-written-by-vm-loop` be written to by
/// both cores (docs/performance.md, "Fan-out over both loops").
///
/// The session, its parser, its queue and every decision stay on its own
/// loop; only bytes cross, replies and events through one ordered hand-off.
/// The output limit holds as with `ConnectionTransport`: bytes handed and
/// not yet sent are counted atomically (`pendingOutputBytes`), and a session
/// over its limit hears from the writer when the queue has drained. Closing
/// is ordered: the reading side closes its descriptor at once and the
/// writer closes its duplicate after what was handed before it.
/// Loop-confined (the session's loop), as the session.
public final class CrossLoopTransport: SessionTransport {
    public let connection: UnixConnection
    private let writer: CrossLoopWriter
    private let outputLimit: Int

    /// Nil when no descriptor is left for the writer's duplicate: the
    /// caller uses a `ConnectionTransport`.
    public init?(connection: UnixConnection, readerLoop: EventLoop, writerLoop: EventLoop, limits: SessionLimits) {
        guard let writer = CrossLoopWriter(duplicating: connection, readerLoop: readerLoop, writerLoop: writerLoop,
                                           writeStallTimeoutMilliseconds: limits.sessionOutputStallMilliseconds,
                                           finalFlushTimeoutMilliseconds: limits.finalFlushMilliseconds) else { return nil }
        self.connection = connection
        self.writer = writer
        self.outputLimit = limits.sessionOutputBytes
    }

    /// Wires the connection's input to `session`, and the writer's news
    /// (drained, stalled, failed) to it. Strong captures, as
    /// `ConnectionTransport.attach` says why; the cycle ends at close.
    public func attach(to session: Session) {
        connection.onFileDescriptors = { fds in session.receive(fileDescriptors: fds) }
        connection.onBytes = { bytes in session.receive(bytes) }
        connection.onClose = { [writer] in
            writer.close()
            session.transportDidClose()
        }
        connection.onEndOfInput = { peerClosed in session.inputDidEnd(peerClosed: peerClosed) }
        writer.onDrained = { [self] in self.writerDrained(session) }
        writer.onStall = { session.outputDidStall() }
        writer.onFailure = { session.close() }
    }

    public func send(_ bytes: [UInt8]) {
        if writer.send(bytes) > outputLimit { writer.wantDrainNotice() }
    }

    public func sendEvent(_ bytes: [UInt8], queuedLimit limit: Int) -> Bool {
        guard let pending = writer.send(bytes, queuedLimit: limit) else { return false }
        if pending > outputLimit { writer.wantDrainNotice() }
        return true
    }

    public var pendingOutputBytes: Int { writer.pendingBytes.value }
    public func pauseInput() { connection.pauseReading() }
    public func resumeInput() { connection.resumeReading() }

    public func close() {
        connection.close()
        writer.close()
    }

    public func closeAfterFlush() {
        connection.close()
        writer.closeAfterFlush()
    }

    /// The writer's queue ran empty, but more may have been handed since:
    /// while still over the limit, ask again first, then look once more,
    /// so a drain between the two is never missed.
    private func writerDrained(_ session: Session) {
        if writer.pendingBytes.value > outputLimit {
            writer.wantDrainNotice()
            guard writer.pendingBytes.value <= outputLimit else { return }
        }
        session.outputDidDrain()
    }
}
