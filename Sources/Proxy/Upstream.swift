import FleetCore
import Logging
import QMPWire
import UVLoop

/// The one connection to a real QEMU's QMP monitor that a proxied VM holds.
///
/// It negotiates itself (without OOB), then runs one command at a time, as a
/// monitor requires: requests from all clients wait in one FIFO, and since
/// each client has at most one command in flight, the FIFO serves clients
/// round-robin. Request ids are rewritten to our own numbers on the way up
/// and the client's id is restored on the way back.
final class Upstream {
    enum State: String { case connecting, negotiating, ready, closed }

    private struct Pending {
        let name: String
        let arguments: JSONObject?
        let complete: (CommandResult) -> Void
    }

    private(set) var state: State = .connecting
    private(set) var greeting: [UInt8] = []
    private let connection: UnixConnection
    private var parser = JSONStreamParser()
    private var queue: [(id: Int64, Pending)] = []
    private var inFlight: (id: Int64, Pending)?
    private var nextID: Int64 = 1
    /// `limits.proxy-queued-commands`: requests in flight and queued together.
    private let queueLimit: Int
    private let logger: Logger

    var onReady: (() -> Void)?
    /// Upstream events, as the bytes the clients get.
    var onEvent: (([UInt8]) -> Void)?
    var onClose: (() -> Void)?

    init(loop: EventLoop, path: String, queueLimit: Int, logger: Logger) throws {
        self.logger = logger
        self.queueLimit = queueLimit
        connection = try UnixConnection.connect(loop: loop, path: path)
        connection.onBytes = { [weak self] bytes in self?.receive(bytes) }
        connection.onClose = { [weak self] in self?.closed() }
    }

    func send(_ name: String, arguments: JSONObject?, complete: @escaping (CommandResult) -> Void) {
        guard state != .closed else {
            complete(.failure(.generic("The upstream QEMU is not connected")))
            return
        }
        // Each waiting request keeps its client's session alive: an upstream
        // that stops answering must not let them pile up without bound.
        guard queue.count + (inFlight == nil ? 0 : 1) < queueLimit else {
            complete(.failure(.generic("The upstream QEMU is not answering: \(queueLimit) commands are waiting for it (limit proxy-queued-commands)")))
            return
        }
        let id = nextID
        nextID += 1
        queue.append((id, Pending(name: name, arguments: arguments, complete: complete)))
        pump()
    }

    private func pump() {
        guard state == .ready, inFlight == nil, !queue.isEmpty else { return }
        let next = queue.removeFirst()
        inFlight = next
        var request: JSONObject = ["execute": .string(next.1.name)]
        if let arguments = next.1.arguments { request["arguments"] = .object(arguments) }
        request["id"] = .int(next.id)
        connection.write(JSONValue.object(request).jsonBytes() + [10])
    }

    private func receive(_ bytes: UnsafeRawBufferPointer) {
        parser.feed(bytes) { result in
            guard case .success(let raw) = result else { return }
            handle(QDictOrder.preservingWrittenOrder(raw))
        }
    }

    private func handle(_ message: JSONValue) {
        switch state {
        case .connecting:
            guard message["QMP"] != nil else { return }
            greeting = message.jsonBytes() + [13, 10]
            state = .negotiating
            connection.write(Array(#"{"execute": "qmp_capabilities", "id": 0}"#.utf8) + [10])
        case .negotiating:
            guard message["return"] != nil else {
                logger.error("upstream refused qmp_capabilities: \(message.jsonText)")
                connection.close()
                closed()
                return
            }
            state = .ready
            onReady?()
            pump()
        case .ready:
            if message["event"] != nil {
                onEvent?(message.jsonBytes() + [13, 10])
                return
            }
            guard let current = inFlight, message["id"] == .int(current.id) else {
                logger.warning("upstream reply without a matching request: \(message.jsonText)")
                return
            }
            inFlight = nil
            if let value = message["return"] {
                current.1.complete(.success(value))
            } else {
                let errorClass = message["error"]?["class"]?.stringValue.flatMap(QMPErrorClass.init(rawValue:)) ?? .genericError
                current.1.complete(.failure(QMPError(errorClass, message["error"]?["desc"]?.stringValue ?? "")))
            }
            pump()
        case .closed:
            return
        }
    }

    /// The upstream went away: every request still waiting gets an error.
    private func closed() {
        guard state != .closed else { return }
        state = .closed
        let waiting = (inFlight.map { [$0] } ?? []) + queue
        inFlight = nil
        queue.removeAll()
        for (_, pending) in waiting {
            pending.complete(.failure(.generic("The upstream QEMU closed the connection while '\(pending.name)' was in flight")))
        }
        onClose?()
    }

    func close() {
        connection.close()
        closed()
    }
}
