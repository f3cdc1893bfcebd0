#if canImport(Glibc)
import Glibc
#endif
import CUV
import DequeModule

/// A connected unix stream socket on the loop thread.
///
/// Driven by `uv_poll_t` on a non-blocking fd with our own `recvmsg` and
/// `send`, not by `uv_pipe_t`: file descriptors a peer passes with
/// SCM_RIGHTS must arrive (QMP's `getfd` and `add-fd` need them), and they
/// are handed over before the bytes of the same message. Writes are queued
/// in order and sent once the read that caused them has been handled (the
/// replies to what a read brought), or when the loop's turn ends for what
/// else wrote (`DeferredFlushes`: events, replies that came later), as many
/// queued writes in one gathered `sendmsg` as the socket takes; what it
/// does not take waits for POLLOUT, which is watched only then. Writes
/// carrying descriptors, and a turn's output past `deferredBytesLimit`, go
/// out at once. The queue is the caller's to bound (`pendingWriteBytes`);
/// the connection watches that it moves: a peer that takes no byte for
/// `writeStallTimeoutMilliseconds` while output waits is reported
/// (`onWriteStall`), however little or much is queued, and a final flush
/// (`closeAfterFlush`) ends by `finalFlushTimeoutMilliseconds` at the latest.
/// Loop-confined. The output queue's fields are `@exclusivity(unchecked)`:
/// every reply goes through them, one thread uses them, and no access to
/// one is held across a callback (their dynamic checks were part of the
/// 10 % a pipelined `query-status` spent on them, docs/performance.md).
///
/// While open, the connection is kept alive by its poll handle, so a
/// caller need not hold it; `close()` ends that.
public final class UnixConnection: LoopHandle {
    /// Descriptors accepted in one message, at most; the kernel closes any
    /// beyond this (the message arrives with MSG_CTRUNC).
    public static let maxFileDescriptorsPerMessage = 16
    /// Bytes read per `recvmsg`, into the loop's one shared buffer.
    public static let readChunk = 64 * 1024
    /// Reads per readiness callback, so one busy client cannot starve the others.
    static let readsPerWakeup = 8
    /// Time one readiness callback may spend reading and handing what it read to the receiver,
    /// past which it reads no more this turn (the poll is level-triggered:
    /// the rest is read on the next). Eight reads of plain requests take
    /// far less; but eight reads of one huge message's tokens, each parsed
    /// as it comes, cost about 80 ms in a debug build, and every other VM
    /// of the loop waits for them (issue 16's bound is 100 ms).
    static let readTimeBudgetNanoseconds = 5_000_000
    /// Output of one turn held for the turn's end, at most; past it the
    /// queue is sent at once, so a burst of large replies never piles up
    /// unsent against the session's output limit.
    public static let deferredBytesLimit = 64 * 1024
    /// Queued writes gathered into one `sendmsg`, at most (its iovecs sit
    /// on the stack).
    static let gatherLimit = 64
    /// Small writes queued behind `coalesceAfterChunks` others are copied
    /// into buffers of this size: 1,000 pipelined replies are then a few
    /// chunks, not 1,000 arrays held until sent and 16 `sendmsg`s.
    static let coalescedChunkBytes = 64 * 1024
    /// Queued chunks from which small writes are coalesced (see `enqueue`).
    static let coalesceAfterChunks = 4

    public let fd: Int32
    private let loop: EventLoop
    private var watcher: FDWatcher?
    @exclusivity(unchecked) private var queue: Deque<OutgoingChunk> = []
    /// Bytes of `queue.first` already sent.
    @exclusivity(unchecked) private var headOffset = 0
    @exclusivity(unchecked) public private(set) var pendingWriteBytes = 0
    /// This turn's events for this client while nothing else is queued: a
    /// range of the loop's `TurnEventBuffer`, sent from there
    /// (`writeShared`). Counted in `pendingWriteBytes`; never set while
    /// `queue` holds anything, so it always comes first.
    @exclusivity(unchecked) private var heldEvents: Range<Int>?
    private var readingPaused = false
    /// POLLOUT is watched (the queue waited for room): a flush that empties
    /// the queue need not look at the watcher otherwise, which each client
    /// of an event to 1,000 did.
    @exclusivity(unchecked) private var watchingWritable = false
    /// The peer shut down its sending side (or closed): nothing more to read.
    private var inputEnded = false
    @exclusivity(unchecked) private var closeWhenFlushed = false
    /// In the loop's `DeferredFlushes` list for the turn's end (cleared only
    /// when that flush runs, so the connection is listed once per turn).
    @exclusivity(unchecked) private var flushDeferredScheduled = false
    /// Output written this turn that no flush has sent yet: sent at the
    /// end of the read being handled, or else at the turn's end.
    @exclusivity(unchecked) private var turnOutputWaiting = false
    /// A send failed: the poll callback reports the close, so that `write`
    /// never calls `onClose` under its caller's feet (or, with
    /// `onEndOfInput`, the end of file does). Later writes are dropped.
    @exclusivity(unchecked) private var writeFailed = false
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// Bytes sent since the connection opened: what "progress" means to the
    /// stall check.
    @exclusivity(unchecked) public private(set) var sentByteCount: UInt64 = 0
    /// The queue's bytes as another loop counts them, for a connection that
    /// writes for a session living there (`CrossLoopWriter`): lowered here
    /// as bytes leave or are dropped; nil for every other connection.
    var sharedPendingCount: SharedByteCount?

    /// How long queued output may wait with no byte taken by the peer
    /// before `onWriteStall` (0: never). Reading slowly is progress; not
    /// reading at all is not.
    public var writeStallTimeoutMilliseconds: UInt64 = 0
    /// How long `closeAfterFlush` waits for the peer to take the queue
    /// before closing anyway (0: as long as it keeps taking bytes).
    public var finalFlushTimeoutMilliseconds: UInt64 = 0
    /// Runs while output waits for POLLOUT (made on first need, kept).
    private var stallTimer: LoopTimer?
    private var stallTimerRunning = false
    /// `sentByteCount` and the socket's unread bytes when the stall timer
    /// last fired.
    private var sentAtLastStallCheck: UInt64 = 0
    private var unreadAtLastStallCheck: Int32 = -1
    private var finalFlushTimer: LoopTimer?

    /// Data as it arrives; the buffer is valid only during the call.
    public var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    /// Descriptors that arrived, before `onBytes` for the same message. The
    /// receiver owns them; with no receiver they are closed.
    public var onFileDescriptors: (([Int32]) -> Void)?
    /// The peer closed or the socket failed; called once, never for a local close.
    public var onClose: (() -> Void)?
    /// The peer has sent all it will (end of file on read). When set, the
    /// connection stays open and the receiver decides when to close: a
    /// client that pipes requests and half-closes, as `printf ... | socat`
    /// does, still gets every reply. The argument is true when the peer
    /// closed its socket outright (nothing written will be read; the
    /// receiver should not write). When nil, end of file closes the
    /// connection (`onClose`).
    public var onEndOfInput: ((_ peerClosed: Bool) -> Void)?
    /// Output has waited `writeStallTimeoutMilliseconds` with no byte
    /// taken: the peer is not reading. The receiver decides (a session
    /// closes); with no receiver the connection closes as if the peer left.
    public var onWriteStall: (() -> Void)?
    /// The output queue has just become empty: a receiver that stopped
    /// producing while it was long can go on.
    public var onOutputDrained: (() -> Void)?

    /// Wraps a connected socket; the connection owns `fd` from now on (it is
    /// closed here if wrapping fails).
    public convenience init(loop: EventLoop, fd: Int32) throws {
        try self.init(loop: loop, fd: fd, writeOnly: false)
    }

    /// - Parameter writeOnly: the connection never reads (another loop's
    ///   connection on a duplicate of the socket does, `CrossLoopWriter`):
    ///   its input counts as ended from the start, so a failed write is
    ///   heard by the reader's end of file, not here.
    init(loop: EventLoop, fd: Int32, writeOnly: Bool) throws {
        self.fd = fd
        self.loop = loop
        if writeOnly {
            readingPaused = true
            inputEnded = true
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        do {
            // The watcher's closure holds the connection while it is open.
            watcher = try FDWatcher(loop: loop, fd: fd) { events, failed in
                self.handle(events, failed: failed)
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        watcher?.user = self
        updateInterest()
    }

    /// Connects to a listening socket without blocking: a listener whose
    /// backlog is full gives EAGAIN at once (thrown; retry later).
    public static func connect(loop: EventLoop, path: String) throws -> UnixConnection {
        var address = try UnixAddress(path: path)
        // Non-blocking from the start: a listener that never accepts (a
        // full backlog) makes a blocking connect wait on the loop thread.
        // A unix connect completes at once or fails with EAGAIN (Linux has
        // no pending unix connect to watch for): the caller retries later.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw UVError.errno("socket") }
        var rc: Int32
        repeat {
            rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        } while rc != 0 && errno == EINTR
        guard rc == 0 else {
            let error = UVError.errno("connect(\(path))")
            Glibc.close(fd)
            throw error
        }
        return try UnixConnection(loop: loop, fd: fd)
    }

    private func updateInterest() {
        guard let watcher else { return }
        var events: FDWatcher.Events = []
        if !readingPaused { events.insert(.readable) }
        if !queue.isEmpty || (writeFailed && !receiverFinishesInput) { events.insert(.writable) }
        watchingWritable = events.contains(.writable)
        watcher.watch(events)
    }

    private func handle(_ events: FDWatcher.Events, failed: Bool) {
        // A failed write means the peer is gone; a receiver that finishes
        // its input first (`onEndOfInput`) hears of it at end of file, after
        // the bytes the peer sent before it closed.
        if failed || (writeFailed && !receiverFinishesInput) {
            // A reset (POLLERR) stops the poll for good: what the peer sent
            // before it left is read now, or never.
            if failed && onEndOfInput != nil && !isClosed {
                readAvailable(untilEnd: true)
            } else {
                peerClosed()
            }
            return
        }
        if events.contains(.writable) { flush() }
        if events.contains(.readable) && !isClosed { readAvailable() }
    }

    // MARK: Reading

    /// - Parameter untilEnd: the poll has stopped (the peer reset the
    ///   connection): read, paused or not, until the end of its data, and
    ///   end the input even if more than `readsPerWakeup` reads remain.
    private func readAvailable(untilEnd: Bool = false) {
        let buffer = loop.readBuffer
        let control = loop.controlBuffer
        defer { if untilEnd && !isClosed && !inputEnded { endOfInput() } }
        let started = Self.monotonicNanoseconds()
        for read in 0..<Self.readsPerWakeup {
            if read > 0 && !untilEnd && Self.monotonicNanoseconds() &- started > Self.readTimeBudgetNanoseconds { return }
            guard !isClosed, !readingPaused || untilEnd else { return }
            var fds: [Int32] = []
            var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
            let n = withUnsafeMutablePointer(to: &iov) { iovPointer in
                var message = msghdr()
                message.msg_iov = iovPointer
                message.msg_iovlen = 1
                message.msg_control = control.baseAddress
                message.msg_controllen = control.count
                let n = recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC))
                if n > 0 && message.msg_controllen > 0 { fds = Self.receivedDescriptors(&message) }
                return n
            }
            if n == 0 {
                endOfInput()
                return
            }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                // A peer that closed with our output unread resets the
                // connection; what it sent before has been read by now.
                if errno == ECONNRESET { endOfInput() } else { peerClosed() }
                return
            }
            if !fds.isEmpty {
                if let onFileDescriptors { onFileDescriptors(fds) } else { for d in fds { Glibc.close(d) } }
            }
            guard !isClosed else { return }
            onBytes?(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            flushAfterRead()
            if n < buffer.count && !untilEnd { return }
        }
    }

    @inline(__always)
    private static func monotonicNanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec &* 1_000_000_000 &+ now.tv_nsec
    }

    private static func receivedDescriptors(_ message: inout msghdr) -> [Int32] {
        var fds: [Int32] = []
        var header = cuv_cmsg_firsthdr(&message)
        while let h = header {
            if h.pointee.cmsg_level == SOL_SOCKET && h.pointee.cmsg_type == Int32(SCM_RIGHTS),
               let data = cuv_cmsg_data(h) {
                let count = (Int(h.pointee.cmsg_len) - cuv_cmsg_len(0)) / MemoryLayout<Int32>.size
                for i in 0..<count {
                    fds.append(UnsafeRawPointer(data).loadUnaligned(fromByteOffset: i * MemoryLayout<Int32>.size, as: Int32.self))
                }
            }
            header = cuv_cmsg_nxthdr(&message, h)
        }
        return fds
    }

    /// The receiver reads to the end of the input and then decides when to
    /// close (it set `onEndOfInput`, which may already have been called).
    private var receiverFinishesInput: Bool { onEndOfInput != nil || inputEnded }

    private func endOfInput() {
        guard let callback = onEndOfInput else { return peerClosed() }
        onEndOfInput = nil
        inputEnded = true
        readingPaused = true
        updateInterest()
        callback(peerIsGone)
    }

    /// True when the peer closed its socket, not just its sending side: a
    /// unix socket then reports POLLHUP (after `shutdown(SHUT_WR)` only
    /// POLLRDHUP). Nobody is left to read replies.
    private var peerIsGone: Bool {
        var probe = pollfd(fd: fd, events: 0, revents: 0)
        return poll(&probe, 1, 0) == 1 && probe.revents & Int16(POLLHUP) != 0
    }

    /// Stops reading (the peer's writes then block in its kernel buffer).
    public func pauseReading() {
        guard !readingPaused, !isClosed else { return }
        readingPaused = true
        updateInterest()
    }

    public func resumeReading() {
        guard readingPaused, !isClosed, !closeWhenFlushed, !inputEnded else { return }
        readingPaused = false
        updateInterest()
    }

    // MARK: Writing

    /// Sends now what the socket takes and queues the rest, in order.
    public func write(_ bytes: [UInt8]) {
        enqueue(OutgoingChunk(bytes: bytes, fileDescriptors: []))
    }

    /// Sends `bytes` with `fileDescriptors` attached to their first byte
    /// (SCM_RIGHTS), in order with other writes. The caller keeps its
    /// descriptors: queued ones are duplicates, closed once sent. `bytes`
    /// must not be empty (a stream socket carries descriptors on data).
    public func write(_ bytes: [UInt8], fileDescriptors: [Int32]) {
        guard !fileDescriptors.isEmpty else { return write(bytes) }
        enqueue(OutgoingChunk(bytes: bytes, fileDescriptors: fileDescriptors))
    }

    /// Sends `bytes`, an event that many of this loop's connections write
    /// this turn, in order with other writes. While nothing else is
    /// queued, the connection only notes where the event is in the loop's
    /// `TurnEventBuffer` (copied there once for all of them; consecutive
    /// events make one range) and its flush sends that range from there:
    /// no queue slot, no retain of the array.
    public func writeShared(_ bytes: [UInt8]) {
        guard queue.isEmpty, !isClosed, !writeFailed, !closeWhenFlushed,
              let range = loop.turnEvents.range(of: bytes) else { return write(bytes) }
        let wasEmpty: Bool
        if let held = heldEvents {
            guard held.upperBound == range.lowerBound else {
                queueHeldEvents()
                return write(bytes)
            }
            heldEvents = held.lowerBound..<range.upperBound
            wasEmpty = false
        } else {
            loop.turnEvents.hold()
            heldEvents = range
            wasEmpty = true
        }
        pendingWriteBytes += range.count
        scheduleFlush(wasEmpty: wasEmpty, carriesDescriptors: false)
    }

    /// `writeShared`, unless the bytes queued and these would pass `limit`:
    /// then nothing is queued and the result is false (the client is too
    /// far behind). The check is made here, where the count is kept
    /// (`OutputBudget`).
    public func writeShared(_ bytes: [UInt8], queuedLimit limit: Int) -> Bool {
        guard OutputBudget.admits(bytes.count, queued: pendingWriteBytes, limit: limit) else { return false }
        writeShared(bytes)
        return true
    }

    /// Moves the held events into the queue (a copy of their bytes), so
    /// that a write which is not one of them goes after them.
    private func queueHeldEvents() {
        guard let held = heldEvents else { return }
        heldEvents = nil
        queue.append(OutgoingChunk(bytes: loop.turnEvents.copy(held), fileDescriptors: []))
        loop.turnEvents.release()
    }

    private func enqueue(_ chunk: OutgoingChunk) {
        guard !isClosed, !writeFailed, !closeWhenFlushed, !chunk.bytes.isEmpty else {
            sharedPendingCount?.subtract(chunk.bytes.count)
            return
        }
        queueHeldEvents()
        var chunk = chunk
        if !chunk.fileDescriptors.isEmpty {
            // The caller may close its descriptors as soon as we return.
            chunk.fileDescriptors = chunk.fileDescriptors.map { fcntl($0, F_DUPFD_CLOEXEC, 0) }.filter { $0 >= 0 }
            chunk.ownsDescriptors = true
        }
        let wasEmpty = queue.isEmpty
        if chunk.fileDescriptors.isEmpty && !wasEmpty && queue[queue.count - 1].isCoalesced
            && queue[queue.count - 1].bytes.count + chunk.bytes.count <= Self.coalescedChunkBytes {
            // A burst's replies go out as one run of bytes, appended to the
            // buffer this connection made for them, not one iovec each.
            queue[queue.count - 1].bytes.append(contentsOf: chunk.bytes)
        } else if chunk.fileDescriptors.isEmpty && queue.count >= Self.coalesceAfterChunks
                    && chunk.bytes.count < Self.coalescedChunkBytes / 2 {
            // Past a few chunks a burst is under way: start a buffer of our
            // own. Fewer chunks stay as they came, without a copy: an
            // event's bytes are one array shared by every client.
            var run = OutgoingChunk(bytes: [], fileDescriptors: [])
            run.bytes.reserveCapacity(Self.coalescedChunkBytes)
            run.bytes.append(contentsOf: chunk.bytes)
            run.isCoalesced = true
            queue.append(run)
        } else {
            queue.append(chunk)
        }
        pendingWriteBytes += chunk.bytes.count
        scheduleFlush(wasEmpty: wasEmpty, carriesDescriptors: !chunk.fileDescriptors.isEmpty)
    }

    /// When what was just written leaves. Descriptors leave at once, as the
    /// caller expects of a hand-over; so does a turn's output that has grown
    /// past the deferral limit. Otherwise a queue that was empty waits for
    /// the turn's end (or goes at once if the loop no longer flushes); a
    /// queue that was not is already waiting for the turn's end or for POLLOUT.
    private func scheduleFlush(wasEmpty: Bool, carriesDescriptors: Bool) {
        if carriesDescriptors || pendingWriteBytes >= Self.deferredBytesLimit {
            flush()
        } else if wasEmpty && !turnOutputWaiting {
            if loop.deferredFlushes.isOpen {
                turnOutputWaiting = true
                if !flushDeferredScheduled {
                    flushDeferredScheduled = true
                    loop.deferredFlushes.add(self)
                }
            } else {
                flush()
            }
        }
    }

    /// The bytes of one read have been handled: what they caused to be
    /// written here (the replies to the requests they held, all of them
    /// in one gathered `sendmsg`) leaves now, not at the turn's end.
    ///
    /// Why not wait: our `recvmsg` of a client's request wakes that client
    /// (the kernel's unix socket wakes a blocked reader when its sent data
    /// is consumed: write space and read share one wait queue). At the
    /// turn's end, after the other ready clients' reads, the woken client
    /// has usually found nothing yet and gone back to sleep, and the reply
    /// wakes it a second time. Sent right after the read, the reply is
    /// mostly there when the first wake-up runs: 16 ping-pong clients on
    /// two loops slept 1.6-1.9 times per request before this, an echo
    /// server's clients once (docs/performance.md, session 8).
    private func flushAfterRead() {
        guard turnOutputWaiting else { return }
        turnOutputWaiting = false
        guard !isClosed, !writeFailed else { return }
        flush()
    }

    /// The loop's turn is over: send what it wrote and no read has sent.
    func flushDeferred() {
        flushDeferredScheduled = false
        guard turnOutputWaiting else { return }
        turnOutputWaiting = false
        guard !isClosed, !writeFailed else { return }
        flush()
    }

    private func flush() {
        guard sendHeldEvents(), sendQueued() else { return failWrites() }
        if queue.isEmpty {
            if closeWhenFlushed {
                close()
                return
            }
            if stallTimerRunning {
                stallTimerRunning = false
                stallTimer?.stop()
            }
            if watchingWritable { updateInterest() }
            onOutputDrained?()
            return
        }
        if writeStallTimeoutMilliseconds > 0 && !stallTimerRunning { startStallTimer() }
        updateInterest()
    }

    /// Checks every `writeStallTimeoutMilliseconds` that bytes left since
    /// the last check; stopped when the queue empties.
    private func startStallTimer() {
        let timer = stallTimer ?? LoopTimer(loop: loop)
        stallTimer = timer
        stallTimerRunning = true
        sentAtLastStallCheck = sentByteCount
        unreadAtLastStallCheck = unreadByteCount
        let period = writeStallTimeoutMilliseconds
        timer.start(afterMilliseconds: period, repeatEvery: period) { [weak self] in self?.checkStall() }
    }

    /// Bytes the kernel holds that the peer has not read (SIOCOUTQ; for a
    /// unix socket its buffers' size, which shrinks as the peer reads).
    private var unreadByteCount: Int32 {
        var count: Int32 = 0
        let rc = withUnsafeMutablePointer(to: &count) { ioctl(fd, UInt(TIOCOUTQ), $0) }
        return rc == 0 ? count : -1
    }

    private func checkStall() {
        guard !isClosed, stallTimerRunning, !queue.isEmpty else { return }
        // Progress is a byte leaving our queue or the peer reading from
        // the socket's buffer: a unix socket lets us write again only once
        // the peer has read most of what the kernel holds, so a reader that
        // takes 64 KiB every 100 ms frees room in bursts, not steadily.
        let unread = unreadByteCount
        guard sentByteCount == sentAtLastStallCheck && unread == unreadAtLastStallCheck else {
            sentAtLastStallCheck = sentByteCount
            unreadAtLastStallCheck = unread
            return
        }
        stallTimerRunning = false
        stallTimer?.stop()
        if closeWhenFlushed {
            close()
        } else if let onWriteStall {
            onWriteStall()
        } else {
            peerClosed()
        }
    }

    /// Sends the held events from the loop's buffer; what the socket does
    /// not take is copied into the queue (the buffer empties when the turn's
    /// holders are done). Returns false on an error other than a full socket.
    private func sendHeldEvents() -> Bool {
        guard let held = heldEvents else { return true }
        let sent = loop.turnEvents.send(held, on: fd)
        if sent < 0 && !Self.isTransient(errno) { return false }
        let taken = max(sent, 0)
        countSent(taken)
        heldEvents = nil
        if taken < held.count {
            queue.append(OutgoingChunk(bytes: loop.turnEvents.copy(held.lowerBound + taken..<held.upperBound), fileDescriptors: []))
        }
        loop.turnEvents.release()
        return true
    }

    /// Sends queued chunks, gathered, until the queue is empty or the socket
    /// stops taking them. Returns false on an error other than a full socket.
    private func sendQueued() -> Bool {
        while !queue.isEmpty {
            let (sent, offered) = queue[0].fileDescriptors.isEmpty
                ? sendGathered()
                : (queue[0].send(on: fd, from: headOffset), queue[0].bytes.count - headOffset)
            if sent < 0 { return Self.isTransient(errno) }
            consume(sent)
            if sent < offered { return true }
        }
        return true
    }

    /// One `sendmsg` of the queue's head chunks up to the first that carries
    /// descriptors (they must ride on their own message's first byte).
    /// Returns bytes sent (or -1, `errno` set) and bytes offered.
    private func sendGathered() -> (sent: Int, offered: Int) {
        var count = 1
        while count < min(queue.count, Self.gatherLimit) && queue[count].fileDescriptors.isEmpty { count += 1 }
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { iov in
            var offered = 0
            // Each chunk's bytes are pinned for the send by nesting one
            // `withUnsafeBytes` per chunk (at most `gatherLimit` deep).
            func gather(_ index: Int) -> Int {
                guard index < count else {
                    var message = msghdr()
                    message.msg_iov = iov.baseAddress
                    message.msg_iovlen = count
                    return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                }
                return queue[index].bytes.withUnsafeBytes { raw in
                    let skip = index == 0 ? headOffset : 0
                    iov[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip)
                    offered += raw.count - skip
                    return gather(index + 1)
                }
            }
            let sent = gather(0)
            return (sent, offered)
        }
    }

    /// `sent` bytes from the head of the queue have gone out.
    private func consume(_ sent: Int) {
        countSent(sent)
        var left = sent
        while left > 0 {
            // Descriptors went with the first byte of their chunk that was sent.
            queue[0].releaseDescriptors()
            let remaining = queue[0].bytes.count - headOffset
            if left < remaining {
                headOffset += left
                return
            }
            left -= remaining
            queue.removeFirst()
            headOffset = 0
        }
    }

    private func countSent(_ sent: Int) {
        pendingWriteBytes -= sent
        sharedPendingCount?.subtract(sent)
        sentByteCount &+= UInt64(sent)
    }

    private static func isTransient(_ error: Int32) -> Bool {
        error == EAGAIN || error == EWOULDBLOCK || error == EINTR
    }

    /// Drops the queue and lets the next poll callback report the close.
    /// A receiver that reads its input to the end may have stopped reading
    /// until its output drains (a session over its output budget): the
    /// queue is gone, so it hears that it has drained, goes on (what it
    /// writes now is dropped) and reads what is left; otherwise it would
    /// wait for a drain that never comes, with no poll interest left to
    /// end it, and keep the descriptor forever.
    private func failWrites() {
        dropQueue()
        if closeWhenFlushed {
            close()
            return
        }
        writeFailed = true
        if stallTimerRunning {
            stallTimerRunning = false
            stallTimer?.stop()
        }
        updateInterest()
        if receiverFinishesInput { onOutputDrained?() }
    }

    private func dropQueue() {
        if heldEvents != nil {
            heldEvents = nil
            loop.turnEvents.release()
        }
        for index in queue.indices { queue[index].releaseDescriptors() }
        queue.removeAll()
        headOffset = 0
        sharedPendingCount?.subtract(pendingWriteBytes)
        pendingWriteBytes = 0
    }

    // MARK: Closing

    private func peerClosed() {
        guard !isClosed else { return }
        let callback = onClose
        close()
        callback?()
    }

    /// Closes now; queued output goes as far as the socket takes it at once
    /// (what was written this turn included), the rest is dropped. `onClose`
    /// is not called. Idempotent.
    public func close() {
        guard !isClosed else { return }
        if !writeFailed { _ = sendHeldEvents() && sendQueued() }
        isClosed = true
        dropQueue()
        onBytes = nil
        onFileDescriptors = nil
        onClose = nil
        onEndOfInput = nil
        onWriteStall = nil
        onOutputDrained = nil
        stallTimer?.close()
        stallTimer = nil
        finalFlushTimer?.close()
        finalFlushTimer = nil
        // The flush list holds us unretained; the watcher's closure, about
        // to go, may be what keeps us alive.
        loop.deferredFlushes.closing(self, listed: flushDeferredScheduled)
        // Stop polling before the fd number can be reused.
        watcher?.close()
        watcher = nil
        Glibc.close(fd)
    }

    /// Closes once the queued output is written (the reply to `quit`), or
    /// after `finalFlushTimeoutMilliseconds` whatever is left: a peer that
    /// half-closed and never reads must not keep its descriptor and its
    /// queue forever. Reads stop now, further writes are dropped, `onClose`
    /// is not called.
    public func closeAfterFlush() {
        guard !isClosed else { return }
        queueHeldEvents()
        if queue.isEmpty {
            close()
        } else {
            closeWhenFlushed = true
            readingPaused = true
            updateInterest()
            if finalFlushTimeoutMilliseconds > 0 && finalFlushTimer == nil {
                let timer = LoopTimer(loop: loop)
                finalFlushTimer = timer
                timer.start(afterMilliseconds: finalFlushTimeoutMilliseconds) { [weak self] in self?.close() }
            }
        }
    }
}

/// One queued write: bytes, and descriptors that ride on their first byte.
struct OutgoingChunk {
    var bytes: [UInt8]
    var fileDescriptors: [Int32]
    /// The descriptors are our duplicates, closed once sent or dropped.
    var ownsDescriptors = false
    /// A buffer the connection made to gather small writes into; nobody
    /// else holds it, so appending never copies.
    var isCoalesced = false

    init(bytes: [UInt8], fileDescriptors: [Int32]) {
        self.bytes = bytes
        self.fileDescriptors = fileDescriptors
    }

    /// One non-blocking send from `offset`: `sendmsg` with SCM_RIGHTS while
    /// descriptors are still attached, plain `send` otherwise. Never raises
    /// SIGPIPE. Returns bytes sent or -1 with `errno` set.
    func send(on fd: Int32, from offset: Int) -> Int {
        bytes.withUnsafeBytes { raw in
            let start = raw.baseAddress! + offset
            let count = raw.count - offset
            guard !fileDescriptors.isEmpty else {
                return Glibc.send(fd, start, count, Int32(MSG_NOSIGNAL))
            }
            let controlLength = cuv_cmsg_space(MemoryLayout<Int32>.size * fileDescriptors.count)
            let control = UnsafeMutableRawBufferPointer.allocate(byteCount: controlLength, alignment: MemoryLayout<cmsghdr>.alignment)
            defer { control.deallocate() }
            control.initializeMemory(as: UInt8.self, repeating: 0)
            var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: start), iov_len: count)
            return withUnsafeMutablePointer(to: &iov) { iovPointer in
                var message = msghdr()
                message.msg_iov = iovPointer
                message.msg_iovlen = 1
                message.msg_control = control.baseAddress
                message.msg_controllen = controlLength
                guard let header = cuv_cmsg_firsthdr(&message), let data = cuv_cmsg_data(header) else { return -1 }
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                header.pointee.cmsg_len = cuv_cmsg_len(MemoryLayout<Int32>.size * fileDescriptors.count)
                for (i, d) in fileDescriptors.enumerated() {
                    UnsafeMutableRawPointer(data).storeBytes(of: d, toByteOffset: i * MemoryLayout<Int32>.size, as: Int32.self)
                }
                return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
            }
        }
    }

    /// After the first successful send the descriptors have gone out.
    mutating func releaseDescriptors() {
        if ownsDescriptors { for d in fileDescriptors { Glibc.close(d) } }
        fileDescriptors = []
        ownsDescriptors = false
    }
}
