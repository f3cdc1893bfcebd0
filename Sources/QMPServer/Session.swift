import DequeModule
import Logging
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// One connected client of a VM (or of the control socket).
///
/// It does what QEMU's `monitor/qmp.c` does for one monitor: sends the
/// greeting, holds the client in capabilities negotiation until
/// `qmp_capabilities`, parses its byte stream, and runs its in-band
/// commands strictly in order, one at a time. Clients of the same VM never
/// wait for each other: each session has its own queue. With the `oob`
/// capability, an `exec-oob` request runs as soon as it is read, ahead of
/// the in-band requests queued before it (`Session+OutOfBand.swift`).
///
/// Bounds, each as QEMU keeps them or stricter:
/// - at most `pendingCommandsPerSession` in-band requests wait (QEMU's
///   QMP_REQ_QUEUE_LEN_MAX, 8); at that count the session stops parsing,
///   between two messages of one read if need be, and stops reading its
///   socket until one completes. Nothing is dropped.
/// - output: a reply is always queued (its size follows from the request's,
///   which the parser bounds), but while more than `sessionOutputBytes` wait
///   the session reads and runs nothing more, so a client that reads its
///   10 MiB reply slowly gets all of it. Events past twice that, or a queue
///   that does not move for `sessionOutputStallMilliseconds` (the
///   connection watches it), mean the client is not reading: it is
///   disconnected, and nobody else slows down.
/// - a client must negotiate within `negotiationTimeoutMilliseconds`.
/// - its parser's partial message counts against `parserBytesPerFleet`.
///
/// The fields every request touches are `@exclusivity(unchecked)`: the
/// dynamic exclusivity checks on them were 10 % of a pipelined
/// `query-status` (docs/performance.md). One thread uses them, and no
/// access to one of them is held across a call that could reach it again
/// (the parser's closure touches the queue, never the parser).
///
/// Loop-confined: only the loop thread touches a session.
public final class Session {
    /// An item of input waiting its turn: a request the scanner recognised
    /// in the read buffer (`QMPRequestScanner`: no `JSONValue` made), or a
    /// parsed message or a parse error, with its `arguments` object's bytes
    /// as the client sent them when the parser kept them
    /// (`QMPRequest.argumentsText`).
    enum Input {
        case request(QMPRequest)
        case message(Result<JSONValue, JSONParseError>, argumentsText: [UInt8]?)
    }

    public let id: UInt64
    /// What the session is attached to. Strong until the session closes
    /// (`teardown` lets it go), not `weak`: a weak reference gives its
    /// object a side table for good, and every retain and release of a VM
    /// then takes the slow path (most of the 28 % retain/release of a
    /// pipelined `query-status`, docs/performance.md). The host holds its
    /// sessions until they close, so the pair is a cycle only while open.
    @exclusivity(unchecked) public private(set) var host: (any SessionHost)?
    let transport: any SessionTransport
    /// Its host's logger, asked for at the first warning: a VM makes its
    /// own (its name as metadata) only then, where making it for every
    /// client that ever came cost a 10,000-VM fleet 4 MB.
    private(set) lazy var logger: Logger = makeLogger()
    private let makeLogger: () -> Logger
    @exclusivity(unchecked) private var parser: JSONStreamParser
    @exclusivity(unchecked) private var queue: Deque<Input> = []
    /// Bytes read but not parsed yet: the rest of a read after the queue
    /// filled. `heldStart` is where they begin.
    @exclusivity(unchecked) private var heldInput: [UInt8] = []
    @exclusivity(unchecked) private var heldStart = 0
    /// An `exec-oob` request just parsed, run before anything else.
    @exclusivity(unchecked) private var outOfBandRequest: JSONValue?
    /// Out-of-band commands dispatched and not yet answered.
    @exclusivity(unchecked) var outOfBandInFlight = 0
    @exclusivity(unchecked) private var commandInFlight = false
    /// In-band requests that may be in flight at once: the host's
    /// `requestsInFlightLimit`, 1 (QEMU's one at a time) for a VM.
    private let inFlightLimit: Int
    /// With `inFlightLimit` above 1, the requests in flight, oldest first:
    /// each keeps its reply until those before it are sent, so replies
    /// leave in request order whatever order they are ready in.
    @exclusivity(unchecked) private var replySlots: Deque<ReplySlot> = []
    /// The host declined to start the queue's first request beside those in
    /// flight; it is not asked again until one of them answers.
    private var alongsideDeclined = false
    /// A request the host would not take beside others is in flight:
    /// nothing starts until it is answered.
    private var exclusiveInFlight = false
    @exclusivity(unchecked) private var pumping = false
    /// The rest of this session's queued work, due on the loop's next turn
    /// (its turn's time, `sessionTurnMicroseconds`, ran out).
    @exclusivity(unchecked) private var continuation: ScheduledAction?

    /// True while the session's queued work waits for the loop's next turn.
    public var hasDeferredWork: Bool { continuation != nil }
    @exclusivity(unchecked) private var inputPaused = false
    /// More than `outputLimit` bytes wait for the client: run nothing more
    /// until its queue drains (`outputDidDrain`).
    @exclusivity(unchecked) private var outputOverBudget = false
    /// The client sent all it will; the session closes once its queued
    /// commands are answered.
    @exclusivity(unchecked) private var inputEnded = false
    /// The client is gone: commands still run, replies and events are dropped.
    @exclusivity(unchecked) private var outputDiscarded = false
    @exclusivity(unchecked) private var receivedFileDescriptors: [Int32] = []
    /// `sessionOutputBytes` and `pendingCommandsPerSession`, read once:
    /// every reply, event and message checks them.
    private let outputLimit: Int
    /// The loop's counters (bytes, events, dropped clients); nil for the control socket.
    private let metrics: SessionMetrics?
    /// Twice `outputLimit`: queued bytes past which an event means the
    /// client is not reading.
    private let eventOutputLimit: Int
    private let queueLimit: Int
    /// `sessionTurnMicroseconds` in nanoseconds.
    private let turnNanoseconds: UInt64
    /// Bytes of this parser's partial message counted in the fleet's budget.
    @exclusivity(unchecked) private var parserBytesReserved = 0
    private var negotiationDeadline: ScheduledAction?
    /// CLOCK_MONOTONIC when the command that just finished was answered
    /// (`CommandCall.answered`), for the step after it; 0 when none.
    @exclusivity(unchecked) private var answeredReading: UInt64 = 0
    /// The last reply's text, resent while a command answers with the same value.
    @exclusivity(unchecked) private var replyCache = QMPReplyCache()

    /// True once `qmp_capabilities` succeeded: the session is in command mode
    /// and receives events.
    @exclusivity(unchecked) public private(set) var isNegotiated = false
    /// The client enabled the `oob` capability.
    @exclusivity(unchecked) public private(set) var isOOBEnabled = false
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// A label for logs and `query-vms`.
    public var peerDescription: String

    public convenience init(id: UInt64, host: any SessionHost, transport: any SessionTransport, logger: Logger, peerDescription: String = "",
                            metrics: SessionMetrics? = nil) {
        self.init(id: id, host: host, transport: transport, makeLogger: { logger }, peerDescription: peerDescription, metrics: metrics)
    }

    /// - Parameter makeLogger: the logger, made at the session's first message.
    public init(id: UInt64, host: any SessionHost, transport: any SessionTransport, makeLogger: @escaping () -> Logger,
                peerDescription: String = "", metrics: SessionMetrics? = nil) {
        self.metrics = metrics
        self.id = id
        self.host = host
        self.transport = transport
        self.makeLogger = makeLogger
        self.parser = JSONStreamParser(limits: host.sessionLimits.json)
        self.outputLimit = host.sessionLimits.sessionOutputBytes
        let (twice, overflow) = host.sessionLimits.sessionOutputBytes.multipliedReportingOverflow(by: 2)
        self.eventOutputLimit = overflow ? Int.max : twice
        self.queueLimit = max(1, host.sessionLimits.pendingCommandsPerSession)
        self.inFlightLimit = max(1, host.requestsInFlightLimit)
        let (turn, turnOverflow) = host.sessionLimits.sessionTurnMicroseconds.multipliedReportingOverflow(by: 1000)
        self.turnNanoseconds = turnOverflow ? .max : turn
        self.peerDescription = peerDescription
    }

    /// Sends the greeting and starts the negotiation deadline. Called once,
    /// right after the client connected.
    public func start() {
        guard let host else { return }
        send(host.greeting)
        let timeout = host.sessionLimits.negotiationTimeoutMilliseconds
        if timeout > 0 {
            // Strong, as every closure that holds a session (no side table,
            // see `host`): the deadline is cancelled at negotiation and at close.
            negotiationDeadline = host.scheduler.schedule(afterMilliseconds: timeout) { [self] in
                guard !self.isNegotiated, !self.isClosed else { return }
                self.logger.warning("client \(self.peerDescription) did not negotiate within \(timeout) ms (limit negotiation-timeout-ms); disconnecting")
                self.close()
            }
        }
    }

    // MARK: Input

    /// Bytes from the client, split anywhere.
    public func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        metrics?.bytesIn &+= UInt64(bytes.count)
        if heldStart < heldInput.count {
            // Earlier bytes still wait their turn (a transport that does
            // not pause at once): these go after them.
            heldInput.append(contentsOf: bytes)
        } else {
            let used = parse(bytes)
            if used < bytes.count { hold(UnsafeRawBufferPointer(rebasing: bytes[used...])) }
        }
        pump()
    }

    /// Parses until the in-band queue is full or an out-of-band request
    /// comes; returns the bytes taken.
    private func parse(_ bytes: UnsafeRawBufferPointer) -> Int {
        let oob = isOOBEnabled
        // A recognised request is never `exec-oob` (the scanner takes only
        // `execute`): it queues in-band as any other.
        let used = parser.feedRequests(bytes, request: { scanned in
            queue.append(.request(scanned.request(knownAs: host?.command(named: scanned.nameBytes))))
            return queue.count < queueLimit
        }, message: { output, arguments in
            if oob, case .success(let value) = output, Self.isOutOfBand(value) {
                outOfBandRequest = value
                return false
            }
            queue.append(.message(output, argumentsText: arguments.map(Self.nulTerminated)))
            return queue.count < queueLimit
        })
        accountParserMemory()
        return used
    }

    private func hold(_ bytes: UnsafeRawBufferPointer) {
        heldInput.removeAll(keepingCapacity: true)
        heldStart = 0
        heldInput.append(contentsOf: bytes)
    }

    /// Parses held bytes while the queue has room.
    private func parseHeld() {
        let used = heldInput.withUnsafeBytes { parse(UnsafeRawBufferPointer(rebasing: $0[heldStart...])) }
        heldStart += used
        if heldStart >= heldInput.count {
            heldInput.removeAll(keepingCapacity: heldInput.capacity <= 1 << 16)
            heldStart = 0
        }
    }

    private var hasHeldInput: Bool { heldStart < heldInput.count }

    /// Keeps the fleet's count of partial-message bytes up to date; a
    /// message that would take it past `parserBytesPerFleet` is dropped
    /// with QEMU's error for an oversized message.
    @inline(__always)
    private func accountParserMemory() {
        let pending = parser.pendingByteCount
        guard pending != parserBytesReserved, let host else { return }
        let budget = host.parserMemory
        if pending < parserBytesReserved {
            budget.release(parserBytesReserved - pending)
            parserBytesReserved = pending
        } else if budget.reserve(pending - parserBytesReserved, limit: host.sessionLimits.parserBytesPerFleet) {
            parserBytesReserved = pending
        } else {
            logger.warning("client \(peerDescription): partial message of \(pending) bytes would pass the fleet's parser budget (limit parser-bytes-per-fleet); dropped")
            parser.abandonMessage()
            budget.release(parserBytesReserved)
            parserBytesReserved = 0
            queue.append(.message(.failure(JSONParseError("JSON token size limit exceeded")), argumentsText: nil))
        }
    }

    /// Descriptors the client passed (SCM_RIGHTS); the next command takes them.
    public func receive(fileDescriptors fds: [Int32]) {
        guard !isClosed else {
            for fd in fds { Glibc.close(fd) }
            return
        }
        let limit = host?.sessionLimits.fdsPerSession ?? 0
        for fd in fds {
            if receivedFileDescriptors.count < limit {
                receivedFileDescriptors.append(fd)
            } else {
                logger.warning("client passed more than \(limit) file descriptors; closing the extra one")
                Glibc.close(fd)
            }
        }
    }

    /// The client sent all it will (end of file). What it sent still runs,
    /// in order, as QEMU runs what a monitor read before the end: a piped
    /// `printf ... | socat` session gets every reply. When the client
    /// closed outright (`peerClosed`) nobody reads the replies, so none is
    /// written; the commands still take effect. Then the session closes.
    public func inputDidEnd(peerClosed: Bool = false) {
        guard !isClosed else { return }
        inputEnded = true
        if peerClosed { outputDiscarded = true }
        pump()
    }

    /// Runs what can run: an out-of-band request first, then queued input
    /// until a command is in flight, then held bytes while the queue has room;
    /// for at most `sessionTurnMicroseconds`, then the rest on the next turn.
    func pump() {
        guard !pumping, continuation == nil else { return }
        pumping = true
        defer { pumping = false }
        var now = MonotonicClock.nanoseconds()
        let (turnEnds, past) = now.addingReportingOverflow(turnNanoseconds)
        var first = true
        while !isClosed {
            // One reading per step: the turn's budget, and the start of the
            // command this step runs (`CommandCall.started`).
            if !first {
                // The last command's answer, when it was answered in this
                // step (its host read the clock then); else a reading now.
                now = answeredReading != 0 ? answeredReading : MonotonicClock.nanoseconds()
            }
            first = false
            answeredReading = 0
            if !past, now > turnEnds, let host {
                // Not reading meanwhile: what was read waits for this turn's rest.
                if !inputPaused {
                    inputPaused = true
                    transport.pauseInput()
                }
                // Strong (see `host`); cancelled at close.
                continuation = host.scheduler.scheduleNextTurn { [self] in
                    self.continuation = nil
                    self.pump()
                }
                return
            }
            if let request = outOfBandRequest {
                outOfBandRequest = nil
                runOutOfBand(request)
            } else if !commandInFlight, !outputOverBudget, let input = queue.popFirst() {
                handle(input, at: now)
            } else if inFlightLimit > 1, !exclusiveInFlight, !alongsideDeclined, !outputOverBudget, !queue.isEmpty,
                      replySlots.count < inFlightLimit {
                // Something is in flight: the next request starts beside it
                // if the host knows the two independent.
                if !startAlongside(at: now) { alongsideDeclined = true }
            } else if hasHeldInput, queue.count < queueLimit, !outputOverBudget {
                // Nothing to run now and room in the queue: read on. An
                // exec-oob request found there runs ahead of the queue, as
                // QEMU runs one it reads while an in-band command is slow
                // (with fast ones, QEMU's queue drains before its I/O thread
                // has read the next request; so does ours).
                parseHeld()
            } else {
                break
            }
        }
        guard !isClosed else { return }
        if inputEnded && queue.isEmpty && !hasHeldInput && !commandInFlight && outOfBandInFlight == 0 {
            closeAfterFlush()
            return
        }
        updateBackPressure()
    }

    /// Reads from the socket only while there is room for what it brings.
    private func updateBackPressure() {
        let shouldPause = queue.count >= queueLimit || hasHeldInput || outputOverBudget
        if shouldPause != inputPaused {
            inputPaused = shouldPause
            if shouldPause { transport.pauseInput() } else { transport.resumeInput() }
        }
    }

    /// A copy of `bytes` with a NUL after them (the ABI's C string).
    private static func nulTerminated(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count + 1) { buffer, count in
            if let base = bytes.baseAddress { buffer.baseAddress!.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
            buffer[bytes.count] = 0
            count = bytes.count + 1
        }
    }

    /// Takes `input` and the request in it over (`consuming`): a recognised
    /// request goes to its `CommandCall` moved, not copied and destroyed on
    /// the way (two whole `QMPRequest` copies a request before).
    private func handle(_ input: consuming Input, at now: UInt64) {
        let result: Result<QMPRequest, QMPRequestError>
        switch consume input {
        case .request(let request):
            return run(request, at: now)
        case .message(let output, let argumentsText):
            result = decoded(output, argumentsText: argumentsText)
        }
        switch result {
        case .success(let request):
            run(request, at: now)
        case .failure(let error):
            send(QMPMessage.failure(error.error, id: error.id))
        }
    }

    /// The request `input` is, or the error QEMU answers for it: a parse
    /// error (no id), or what `QMPRequest.decode` refuses.
    private func decoded(_ input: Input) -> Result<QMPRequest, QMPRequestError> {
        switch input {
        case .request(let request):
            return .success(request)
        case .message(let output, let argumentsText):
            return decoded(output, argumentsText: argumentsText)
        }
    }

    /// A parsed message's request, or the error QEMU answers for it.
    private func decoded(_ output: Result<JSONValue, JSONParseError>, argumentsText: [UInt8]?) -> Result<QMPRequest, QMPRequestError> {
        switch output {
        case .failure(let error):
            return .failure(QMPRequestError(error: .generic(error.message), id: nil))
        case .success(let value):
            var result = QMPRequest.decode(value, oobEnabled: isOOBEnabled)
            if case .success(var request) = result, request.arguments != nil {
                request.argumentsText = argumentsText
                result = .success(request)
            }
            return result
        }
    }

    private func run(_ request: consuming QMPRequest, at now: UInt64) {
        guard let host else { return }
        if !isNegotiated {
            guard Self.isNegotiation(request) else {
                send(QMPMessage.failure(
                    QMPError(.commandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'"),
                    id: request.id))
                return
            }
            negotiate(request, host: host)
            return
        }
        if request.isOOB {
            // Read before `oob` was enabled, queued in-band; it runs as QEMU
            // runs an exec-oob request, in its place in the queue.
            return dispatchOutOfBand(request, host: host)
        }
        if Self.isNegotiation(request) {
            // QEMU checks the arguments first, as for any command.
            if case .failure(let error) = host.negotiate(capabilities: request.arguments) {
                send(QMPMessage.failure(error, id: request.id))
                return
            }
            send(QMPMessage.failure(
                QMPError(.commandNotFound, "Capabilities negotiation is already complete, command ignored"),
                id: request.id))
            return
        }
        let fds = receivedFileDescriptors
        receivedFileDescriptors.removeAll()
        let call = CommandCall(request: request, session: self, fileDescriptors: fds)
        call.started = now
        commandInFlight = true
        if inFlightLimit > 1 { return runFirst(call, host: host) }
        // Holds the session, as `call` does: see `CommandCall.session`.
        // Captures the call alone (the request is in it: a captured copy
        // of the request was one more retain of each of its members).
        host.dispatch(call) { result in
            guard !call.isAnswered else { return }
            call.isAnswered = true
            call.closeUnusedFileDescriptors()
            call.session?.finish(result, of: call)
        }
    }

    /// The request is `qmp_capabilities`. The length is compared first:
    /// `==` of two different small strings takes the standard library's
    /// slow comparison (77 instructions, on every request run).
    @inline(__always)
    private static func isNegotiation(_ request: QMPRequest) -> Bool {
        request.execute.utf8.count == 16 && request.execute == "qmp_capabilities"
    }

    private func negotiate(_ request: QMPRequest, host: any SessionHost) {
        switch host.negotiate(capabilities: request.arguments) {
        case .failure(let error):
            send(QMPMessage.failure(error, id: request.id))
        case .success(let capabilities):
            isOOBEnabled = capabilities.outOfBand
            isNegotiated = true
            negotiationDeadline?.cancel()
            negotiationDeadline = nil
            host.sessionDidNegotiate(self)
            send(QMPMessage.success(.object([:]), id: request.id))
        }
    }

    private func finish(_ answer: QMPReply, of call: CommandCall) {
        commandInFlight = false
        // The host's reading of the answer is the next step's start
        // (`pump`): one clock read per command, not two.
        answeredReading = call.answered
        guard !isClosed else { return }
        if !call.isReplyDropped { send(line(answer, id: call.request.id)) }
        pump()
    }

    /// The reply line of `answer`.
    @inline(__always)
    private func line(_ answer: QMPReply, id: JSONValue?) -> [UInt8] {
        switch answer {
        case .success(let value): replyCache.success(value, id: id)
        case .encoded(let text): replyCache.success(encoded: text, id: id)
        case .failure(let error): QMPMessage.failure(error, id: id)
        }
    }

    // MARK: Requests in flight together (`inFlightLimit` above 1)

    /// Starts the queue's first request beside those in flight, if it is a
    /// command the host takes alongside them (`dispatchAlongside`). A parse
    /// error, a bad request, negotiation, or a request that came with
    /// descriptors is never started so: it waits until nothing is in
    /// flight, then runs (or is answered) in its place.
    private func startAlongside(at now: UInt64) -> Bool {
        guard let host, isNegotiated, receivedFileDescriptors.isEmpty, let input = queue.first,
              case .success(let request) = decoded(input),
              !request.isOOB, !Self.isNegotiation(request) else { return false }
        let call = CommandCall(request: request, session: self, fileDescriptors: [])
        call.started = now
        queue.removeFirst()
        let slot = startSlot()
        guard host.dispatchAlongside(call, complete: completion(of: call, into: slot)) else {
            // Declined, nothing done: it waits at the head of the queue.
            replySlots.removeLast()
            queue.prepend(input)
            return false
        }
        return true
    }

    /// Runs `call` with nothing in flight: as one others may start beside
    /// if the host takes it so, else alone.
    private func runFirst(_ call: CommandCall, host: any SessionHost) {
        let slot = startSlot()
        if !host.dispatchAlongside(call, complete: completion(of: call, into: slot)) {
            exclusiveInFlight = true
            host.dispatch(call, complete: completion(of: call, into: slot))
        }
    }

    /// A place for the reply of a request starting now, after those in flight.
    private func startSlot() -> ReplySlot {
        let slot = ReplySlot()
        replySlots.append(slot)
        commandInFlight = true
        return slot
    }

    /// The completion of a call whose reply goes into `slot`. Holds the
    /// session, as `call` does (see `CommandCall.session`).
    private func completion(of call: CommandCall, into slot: ReplySlot) -> (QMPReply) -> Void {
        { result in
            guard !call.isAnswered else { return }
            call.isAnswered = true
            call.closeUnusedFileDescriptors()
            call.session?.finish(result, of: call, into: slot)
        }
    }

    /// A request in flight answered: its reply waits in its slot, and the
    /// replies ready at the head leave in order.
    private func finish(_ answer: QMPReply, of call: CommandCall, into slot: ReplySlot) {
        slot.isAnswered = true
        alongsideDeclined = false
        guard !isClosed else { return }
        if !call.isReplyDropped { slot.line = line(answer, id: call.request.id) }
        while let head = replySlots.first, head.isAnswered {
            replySlots.removeFirst()
            if let bytes = head.line { send(bytes) }
        }
        commandInFlight = !replySlots.isEmpty
        if !commandInFlight { exclusiveInFlight = false }
        pump()
    }

    // MARK: Output

    /// Queues a reply (or the greeting). It is queued whatever its size;
    /// past `outputLimit` queued bytes the session runs and reads nothing
    /// more until the client has taken them (`outputDidDrain`).
    public func send(_ bytes: [UInt8]) {
        guard !isClosed, !outputDiscarded else { return }
        metrics?.bytesOut &+= UInt64(bytes.count)
        transport.send(bytes)
        if transport.pendingOutputBytes > outputLimit && !outputOverBudget {
            outputOverBudget = true
            updateBackPressure()
        }
    }

    /// An event's bytes, for negotiated sessions only. Events do not wait
    /// for the client: past twice `outputLimit` queued bytes the client is
    /// too far behind, and is disconnected.
    public func deliverEvent(_ bytes: [UInt8]) {
        guard isNegotiated, !isClosed, !outputDiscarded else { return }
        guard transport.sendEvent(bytes, queuedLimit: eventOutputLimit) else {
            logger.warning("client \(peerDescription) is not reading: \(transport.pendingOutputBytes) bytes queued (limit session-output-bytes), disconnecting")
            metrics?.clientsDroppedNotReading &+= 1
            close()
            return
        }
        metrics?.eventsSent &+= 1
        metrics?.bytesOut &+= UInt64(bytes.count)
    }

    /// The client has taken all queued output: go on where the budget
    /// stopped the session.
    public func outputDidDrain() {
        guard outputOverBudget, !isClosed, transport.pendingOutputBytes <= outputLimit else { return }
        outputOverBudget = false
        pump()
    }

    /// Queued output has not moved for `sessionOutputStallMilliseconds`:
    /// the client is not reading.
    public func outputDidStall() {
        guard !isClosed else { return }
        logger.warning("client \(peerDescription) is not reading: \(transport.pendingOutputBytes) bytes queued and none taken (limit session-output-stall-ms), disconnecting")
        metrics?.clientsDroppedNotReading &+= 1
        close()
    }

    // MARK: Closing

    /// The client went away.
    public func transportDidClose() {
        guard !isClosed else { return }
        isClosed = true
        teardown()
    }

    /// We end the session.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        transport.close()
        teardown()
    }

    /// We end the session once what is queued has reached the client (the
    /// reply to `quit` and the SHUTDOWN event that follows it).
    public func closeAfterFlush() {
        guard !isClosed else { return }
        isClosed = true
        transport.closeAfterFlush()
        teardown()
    }

    private func teardown() {
        queue.removeAll()
        replySlots.removeAll()
        exclusiveInFlight = false
        heldInput = []
        heldStart = 0
        outOfBandRequest = nil
        negotiationDeadline?.cancel()
        negotiationDeadline = nil
        continuation?.cancel()
        continuation = nil
        if parserBytesReserved > 0 {
            host?.parserMemory.release(parserBytesReserved)
            parserBytesReserved = 0
        }
        parser.reset()
        for fd in receivedFileDescriptors { Glibc.close(fd) }
        receivedFileDescriptors.removeAll()
        host?.sessionDidClose(self)
        host = nil
    }
}
