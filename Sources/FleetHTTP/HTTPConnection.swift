import UVLoop

/// One client of the HTTP listener, from its first byte to its close.
///
/// It reads the request head (at most `headerBytes`; 431 past it), within
/// `requestTimeoutMilliseconds` of connecting (closed when it has not
/// finished by then: a slow or silent client holds a slot no longer), then
/// hands it to the server's handler, which answers once (`respond`) or
/// turns the connection into an event stream (`startEventStream`, `send`).
/// Output queued past `outputBytes` (a stream nobody reads) closes it.
/// Loop-confined to the listener's loop.
public final class HTTPConnection {
    private let connection: UnixConnection
    private let limits: HTTPServerLimits
    private var parser: HTTPRequestParser
    private var timer: LoopTimer?
    private var handled = false
    private var isHeadRequest = false
    public private(set) var isClosed = false
    /// Called once when the connection ends, either side.
    public var onClose: (() -> Void)?
    private let closed: (HTTPConnection) -> Void

    init(connection: UnixConnection, loop: EventLoop, limits: HTTPServerLimits,
         handler: @escaping (HTTPRequestHead, HTTPConnection) -> Void, closed: @escaping (HTTPConnection) -> Void) {
        self.connection = connection
        self.limits = limits
        self.parser = HTTPRequestParser(limit: limits.headerBytes)
        self.closed = closed
        let timer = LoopTimer(loop: loop)
        self.timer = timer
        timer.start(afterMilliseconds: limits.requestTimeoutMilliseconds) { [weak self] in self?.close() }
        connection.onBytes = { [weak self] bytes in self?.receive(bytes, handler: handler) }
        connection.onClose = { [weak self] in self?.finish() }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer, handler: (HTTPRequestHead, HTTPConnection) -> Void) {
        guard !handled else { return }
        switch parser.feed(bytes) {
        case .needMore:
            return
        case .headerTooLarge:
            respond(.headerTooLarge)
        case .malformed(let why):
            respond(.badRequest(why))
        case .complete(let head):
            isHeadRequest = head.method == "HEAD"
            guard head.method == "GET" || head.method == "HEAD" else {
                respond(.methodNotAllowed)
                return
            }
            stopTimer()
            handled = true
            handler(head, self)
        }
    }

    /// Sends the whole response and closes once it is written.
    public func respond(_ response: HTTPResponse) {
        guard !isClosed else { return }
        handled = true
        stopTimer()
        connection.onBytes = nil
        connection.write(response.serialized(headOnly: isHeadRequest))
        connection.closeAfterFlush()
        finish()
    }

    /// Answers with the event-stream head; `send` then adds messages.
    public func startEventStream() {
        guard !isClosed else { return }
        stopTimer()
        connection.write(EventStream.head)
    }

    /// Queues stream bytes, or closes the client when its queue is past
    /// `outputBytes` (it is not reading).
    public func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        guard connection.pendingWriteBytes + bytes.count <= limits.outputBytes else {
            close()
            return
        }
        connection.write(bytes)
    }

    /// Closes at once, dropping queued output.
    public func close() {
        guard !isClosed else { return }
        connection.close()
        finish()
    }

    private func stopTimer() {
        timer?.close()
        timer = nil
    }

    private func finish() {
        guard !isClosed else { return }
        isClosed = true
        stopTimer()
        connection.onBytes = nil
        connection.onClose = nil
        let onClose = self.onClose
        self.onClose = nil
        onClose?()
        closed(self)
    }
}
