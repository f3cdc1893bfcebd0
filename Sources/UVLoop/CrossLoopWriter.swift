#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The writing half of a client's connection, on another loop than the one
/// that reads it and runs its session: how one VM's output to a thousand
/// clients is sent by two cores, while the session and all its state stay
/// on the VM's loop (ARCHITECTURE.md's threading rule).
///
/// The writer owns a duplicate of the connection's descriptor and a
/// write-only `UnixConnection` on `writerLoop`, made there when the first
/// bytes arrive; that connection does what a client's connection does with
/// its output (one gathered `sendmsg` per turn, POLLOUT when the socket is
/// full, the stall and final-flush timers). The session's loop hands it
/// replies and events alike through the same `WriteHandoff`, once per turn,
/// so their order is kept; an event's bytes cross once for all the clients
/// that get them. The socket closes when both halves have closed theirs:
/// the reading side closes its descriptor when the session ends and asks
/// the writer to close its own after whatever was handed before.
///
/// Which thread touches what: `send`, `close`, `closeAfterFlush`,
/// `wantDrainNotice` and the `on...` callbacks belong to the reading loop
/// (the callbacks also run there); `descriptor`, `connection` and `ended`
/// to the writing loop once the first hand-off has run (each hand-off is an
/// `EventLoop.execute`, whose lock orders them); `pendingBytes` and
/// `drainWanted` are atomics. That split is why the type can be
/// `@unchecked Sendable`.
public final class CrossLoopWriter: @unchecked Sendable {
    /// Bytes handed and not yet sent (or dropped): the session's output
    /// limit is checked against this on the reading loop.
    public let pendingBytes = SharedByteCount()
    private let readerLoop: EventLoop
    private let writerLoop: EventLoop
    /// Reading loop only.
    private let handoff: WriteHandoff
    /// The reading loop waits to hear that the output drained (its session
    /// is over its output limit): the writer tells it once, then clears it.
    private let drainWanted = Atomic<Bool>(false)
    private let writeStallTimeoutMilliseconds: UInt64
    private let finalFlushTimeoutMilliseconds: UInt64
    /// The duplicate, until the write-only connection takes it over.
    private var descriptor: Int32
    private var connection: UnixConnection?
    /// Closed, or its connection could not be made: what comes is dropped.
    private var ended = false

    /// The output drained after `wantDrainNotice` (reading loop).
    public var onDrained: (() -> Void)?
    /// Output waited `writeStallTimeoutMilliseconds` with no byte taken.
    public var onStall: (() -> Void)?
    /// The writing side could not be set up: nothing will be sent.
    public var onFailure: (() -> Void)?

    /// Reading loop: a writer for `connection` on `writerLoop`, or nil when
    /// no descriptor is left for the duplicate (the caller then writes
    /// itself, as for any client).
    public init?(duplicating connection: UnixConnection, readerLoop: EventLoop, writerLoop: EventLoop,
                 writeStallTimeoutMilliseconds: UInt64, finalFlushTimeoutMilliseconds: UInt64) {
        let copy = fcntl(connection.fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        descriptor = copy
        self.readerLoop = readerLoop
        self.writerLoop = writerLoop
        self.writeStallTimeoutMilliseconds = writeStallTimeoutMilliseconds
        self.finalFlushTimeoutMilliseconds = finalFlushTimeoutMilliseconds
        handoff = readerLoop.handoff(to: writerLoop)
    }

    deinit {
        // Never handed over (the writing loop stopped first): ours to close.
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    // MARK: The reading loop

    /// Queues `bytes` after everything handed before; returns the bytes
    /// now pending.
    public func send(_ bytes: [UInt8]) -> Int {
        let pending = pendingBytes.add(bytes.count)
        handoff.add(.write, bytes, for: self)
        return pending
    }

    /// Queues `bytes` (an event) as `send` does, unless the bytes pending
    /// and these would pass `limit`: then nothing is queued and the result
    /// is nil (the client is too far behind).
    public func send(_ bytes: [UInt8], queuedLimit limit: Int) -> Int? {
        guard OutputBudget.admits(bytes.count, queued: pendingBytes.value, limit: limit) else { return nil }
        return send(bytes)
    }

    /// Asks to hear (`onDrained`) when the writer's queue next runs empty.
    public func wantDrainNotice() {
        drainWanted.store(true, ordering: .sequentiallyConsistent)
    }

    /// Closes the writing side after what was handed before goes as far as
    /// the socket takes it at once (as `UnixConnection.close`); no callback
    /// follows.
    public func close() {
        forgetCallbacks()
        handoff.add(.close, [], for: self)
    }

    /// Closes the writing side once what was handed before is sent, or
    /// after `finalFlushTimeoutMilliseconds` (as `UnixConnection.closeAfterFlush`).
    public func closeAfterFlush() {
        forgetCallbacks()
        handoff.add(.closeAfterFlush, [], for: self)
    }

    /// The callbacks hold the session: dropping them ends that cycle.
    private func forgetCallbacks() {
        onDrained = nil
        onStall = nil
        onFailure = nil
    }

    // MARK: The writing loop

    /// Runs one turn's hand-off, in order.
    static func perform(_ batch: [WriteHandoff.Item]) {
        for item in batch {
            // An event for several clients: one copy in this loop's buffer.
            let shared = item.writers.count > 1
            for writer in item.writers { writer.perform(item.kind, item.bytes, shared: shared) }
        }
    }

    private func perform(_ kind: WriteHandoff.Kind, _ bytes: [UInt8], shared: Bool) {
        switch kind {
        case .write:
            guard let connection = open() else {
                pendingBytes.subtract(bytes.count)
                noticeDrainIfWanted()
                return
            }
            if shared { connection.writeShared(bytes) } else { connection.write(bytes) }
            // Dropped (the connection closed or failed): nothing will drain.
            if connection.pendingWriteBytes == 0 { noticeDrainIfWanted() }
        case .close:
            ended = true
            if let connection { connection.close() } else { closeDescriptor() }
        case .closeAfterFlush:
            ended = true
            if let connection { connection.closeAfterFlush() } else { closeDescriptor() }
        }
    }

    /// The write-only connection, made at the first bytes.
    private func open() -> UnixConnection? {
        if let connection { return connection }
        guard !ended, descriptor >= 0 else { return nil }
        let fd = descriptor
        descriptor = -1
        guard let connection = try? UnixConnection(loop: writerLoop, fd: fd, writeOnly: true) else {
            // The connection closed the descriptor.
            ended = true
            tellReader { $0.onFailure?() }
            return nil
        }
        connection.sharedPendingCount = pendingBytes
        connection.writeStallTimeoutMilliseconds = writeStallTimeoutMilliseconds
        connection.finalFlushTimeoutMilliseconds = finalFlushTimeoutMilliseconds
        // Strong: the connection drops its callbacks when it closes.
        connection.onOutputDrained = { self.noticeDrainIfWanted() }
        connection.onWriteStall = { self.tellReader { $0.onStall?() } }
        // The socket failed: its queue is gone. A session waiting for it to
        // drain goes on and hears of the end from its own side.
        connection.onClose = { self.noticeDrainIfWanted() }
        self.connection = connection
        return connection
    }

    private func closeDescriptor() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    private func noticeDrainIfWanted() {
        guard drainWanted.exchange(false, ordering: .sequentiallyConsistent) else { return }
        tellReader { $0.onDrained?() }
    }

    private func tellReader(_ work: @escaping @Sendable (CrossLoopWriter) -> Void) {
        readerLoop.execute { work(self) }
    }
}
