import DequeModule
import Logging
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// One connected client of a VM (or of the control socket).
///
/// It does what QEMU's `monitor/qmp.c` does for one monitor: sends the
/// greeting, holds the client in capabilities negotiation until
/// `qmp_capabilities`, parses its byte stream, and runs its commands strictly
/// in order, one at a time, as a QEMU monitor without OOB does. Clients of the
/// same VM never wait for each other: each session has its own queue.
///
/// Bounds: at most `pendingCommandsPerSession` parsed requests wait; past it
/// the session stops reading its socket (back-pressure, as QEMU suspends a
/// monitor). Output past `sessionOutputBytes` means the client is not reading:
/// it is disconnected, and nobody else slows down.
///
/// Loop-confined: only the loop thread touches a session.
public final class Session {
    /// An item of input waiting its turn: a parsed message or a parse error.
    private typealias Input = Result<JSONValue, JSONParseError>

    public let id: UInt64
    public private(set) weak var host: (any SessionHost)?
    private let transport: any SessionTransport
    private let logger: Logger
    private var parser: JSONStreamParser
    private var queue: Deque<Input> = []
    private var commandInFlight = false
    private var pumping = false
    private var inputPaused = false
    /// The client sent all it will; the session closes once its queued
    /// commands are answered.
    private var inputEnded = false
    /// The client is gone: commands still run, replies and events are dropped.
    private var outputDiscarded = false
    private var receivedFileDescriptors: [Int32] = []
    /// `sessionOutputBytes`, read once: every reply and event checks it.
    private let outputLimit: Int
    /// The loop's counters (bytes, events, dropped clients); nil for the control socket.
    private let metrics: LoopMetrics?

    /// True once `qmp_capabilities` succeeded: the session is in command mode
    /// and receives events.
    public private(set) var isNegotiated = false
    /// The client enabled the `oob` capability.
    public private(set) var isOOBEnabled = false
    public private(set) var isClosed = false
    /// A label for logs and `query-vms`.
    public var peerDescription: String

    public init(id: UInt64, host: any SessionHost, transport: any SessionTransport, logger: Logger, peerDescription: String = "",
                metrics: LoopMetrics? = nil) {
        self.metrics = metrics
        self.id = id
        self.host = host
        self.transport = transport
        self.logger = logger
        self.parser = JSONStreamParser(limits: host.limits.json)
        self.outputLimit = host.limits.sessionOutputBytes
        self.peerDescription = peerDescription
    }

    /// Sends the greeting. Called once, right after the client connected.
    public func start() {
        guard let host else { return }
        send(host.greeting)
    }

    // MARK: Input

    /// Bytes from the client, split anywhere.
    public func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        metrics?.bytesIn &+= UInt64(bytes.count)
        parser.feed(bytes) { queue.append($0) }
        pump()
    }

    /// Descriptors the client passed (SCM_RIGHTS); the next command takes them.
    public func receive(fileDescriptors fds: [Int32]) {
        let limit = host?.limits.fdsPerSession ?? 0
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

    /// Runs queued input until a command is in flight or the queue is empty.
    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while !commandInFlight, !isClosed, let input = queue.popFirst() {
            handle(input)
        }
        if inputEnded && queue.isEmpty && !commandInFlight {
            closeAfterFlush()
            return
        }
        updateBackPressure()
    }

    private func updateBackPressure() {
        guard let limit = host?.limits.pendingCommandsPerSession else { return }
        let shouldPause = queue.count >= limit
        if shouldPause != inputPaused {
            inputPaused = shouldPause
            if shouldPause { transport.pauseInput() } else { transport.resumeInput() }
        }
    }

    private func handle(_ input: Input) {
        let value: JSONValue
        switch input {
        case .failure(let error):
            send(QMPMessage.failure(.generic(error.message), id: nil))
            return
        case .success(let v):
            value = v
        }
        switch QMPRequest.decode(value, oobEnabled: isOOBEnabled) {
        case .failure(let error):
            send(QMPMessage.failure(error.error, id: error.id))
        case .success(let request):
            run(request)
        }
    }

    private func run(_ request: QMPRequest) {
        guard let host else { return }
        if !isNegotiated {
            guard request.execute == "qmp_capabilities" else {
                send(QMPMessage.failure(
                    QMPError(.commandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'"),
                    id: request.id))
                return
            }
            negotiate(request, host: host)
            return
        }
        if request.execute == "qmp_capabilities" {
            // QEMU checks the arguments first, as for any command.
            if case .failure(let error) = host.checkCapabilitiesArguments(request.arguments) {
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
        commandInFlight = true
        var answered = false
        host.dispatch(call) { [weak self] result in
            guard !answered else { return }
            answered = true
            call.closeUnusedFileDescriptors()
            self?.finish(result, id: request.id, send: !call.isReplyDropped)
        }
    }

    private func negotiate(_ request: QMPRequest, host: any SessionHost) {
        switch host.checkCapabilitiesArguments(request.arguments) {
        case .failure(let error):
            send(QMPMessage.failure(error, id: request.id))
        case .success(let args):
            let enabled = args["enable"]?.arrayValue ?? []
            isOOBEnabled = enabled.contains(.string("oob"))
            isNegotiated = true
            send(QMPMessage.success(.object([:]), id: request.id))
        }
    }

    private func finish(_ result: Result<JSONValue, QMPError>, id: JSONValue?, send reply: Bool = true) {
        commandInFlight = false
        guard !isClosed else { return }
        if reply {
            switch result {
            case .success(let value): send(QMPMessage.success(value, id: id))
            case .failure(let error): send(QMPMessage.failure(error, id: id))
            }
        }
        pump()
    }

    // MARK: Output

    /// Queues one line to the client, or disconnects it when its output
    /// queue is past the limit (it has stopped reading).
    public func send(_ bytes: [UInt8]) {
        guard !isClosed, !outputDiscarded else { return }
        if transport.pendingOutputBytes + bytes.count > outputLimit {
            logger.warning("client \(peerDescription) is not reading: \(transport.pendingOutputBytes) bytes queued, disconnecting")
            metrics?.clientsDroppedNotReading &+= 1
            close()
            return
        }
        metrics?.bytesOut &+= UInt64(bytes.count)
        transport.send(bytes)
    }

    /// An event's bytes, for negotiated sessions only.
    public func deliverEvent(_ bytes: [UInt8]) {
        guard isNegotiated else { return }
        metrics?.eventsSent &+= 1
        send(bytes)
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
        for fd in receivedFileDescriptors { Glibc.close(fd) }
        receivedFileDescriptors.removeAll()
        host?.sessionDidClose(self)
    }
}
