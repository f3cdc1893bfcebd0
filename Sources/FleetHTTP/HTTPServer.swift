import Foundation
import UVLoop

/// A small HTTP/1.1 server on a loop and thread of its own.
///
/// Nothing it does runs on a loop that serves VMs: parsing, limits, slow
/// clients and writing all happen here; what it needs from the fleet it
/// asks for with `EventLoop.execute` and gets back the same way. At most
/// `clients` connections at once; one more gets a 503 and is closed.
///
/// ```swift
/// let server = try HTTPServer(address: TCPAddress(parsing: "127.0.0.1:9464"), limits: limits) { head, connection in
///     connection.respond(HTTPResponse(status: 200, reason: "OK", text: "hello"))
/// }
/// server.start()
/// ```
public final class HTTPServer: @unchecked Sendable {
    /// The listener's loop: the handler, and anything it schedules, run on it.
    public let loop: EventLoop
    /// Where it listens (the real port when 0 was asked for).
    public let address: TCPAddress
    private let limits: HTTPServerLimits
    private var listener: TCPListener?
    /// Open connections, by identity (loop thread only).
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private let finished = DispatchGroup()

    /// Binds and listens now (errors are the caller's to report); serving
    /// starts with `start()`.
    public init(address: TCPAddress, limits: HTTPServerLimits,
                handler: @escaping (HTTPRequestHead, HTTPConnection) -> Void) throws {
        loop = try EventLoop()
        self.limits = limits
        var accept: ((UnixConnection) -> Void)?
        let listener = try TCPListener(loop: loop, address: address) { accept?($0) }
        self.listener = listener
        self.address = listener.address
        accept = { [unowned self] connection in self.accept(connection, handler: handler) }
    }

    /// Runs the loop on a new thread (`qmpfleet-http`).
    public func start() {
        finished.enter()
        let thread = Thread { [self] in
            loop.runUntilStopped()
            finished.leave()
        }
        thread.name = "qmpfleet-http"
        thread.start()
    }

    /// Any thread: closes the listener and every client, and waits for the thread to end.
    public func stop() {
        loop.execute { [self] in
            listener?.close()
            listener = nil
            for connection in Array(connections.values) { connection.close() }
            loop.stop()
        }
        finished.wait()
    }

    /// Connections open now (loop thread).
    public var connectionCount: Int { connections.count }

    private func accept(_ connection: UnixConnection, handler: @escaping (HTTPRequestHead, HTTPConnection) -> Void) {
        guard connections.count < limits.clients else {
            connection.write(HTTPResponse.busy.serialized())
            connection.closeAfterFlush()
            return
        }
        let client = HTTPConnection(connection: connection, loop: loop, limits: limits, handler: handler) { [weak self] client in
            self?.connections[ObjectIdentifier(client)] = nil
        }
        connections[ObjectIdentifier(client)] = client
    }
}
