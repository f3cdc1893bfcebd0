import FleetCore
import QMPServer
import QMPWire

/// A scripted QMP client attached in-process to a VM or the control plane:
/// it writes requests as bytes and reads back every line the session sent,
/// so tests see exactly what a socket client would.
public final class TestClient: SessionTransport {
    /// Every line received and not yet consumed, parsed.
    public private(set) var received: [JSONValue] = []
    /// Raw bytes received, for byte-exact assertions.
    public private(set) var rawOutput: [UInt8] = []
    public private(set) var isClosed = false
    public private(set) var isInputPaused = false
    /// Pretend the client stopped reading: output accumulates here.
    public var simulatedBacklog = 0
    /// Weak: the session holds its transport (this client), and the VM or
    /// control plane holds the session while it is open. A strong reference
    /// here would be a cycle that outlives the fleet.
    weak var session: Session?
    private var parser = JSONStreamParser()
    private var nextID = 1

    /// Runs the loop's next turn: what a session left for it when its
    /// turn's time ran out (`Limits.sessionTurnMicroseconds`).
    private let nextTurn: () -> Void

    /// Loop turns a write may take before the test sees the replies.
    static let turnsPerWrite = 100_000

    /// `nextTurn` runs the loop's next turn (a `VirtualScheduler`'s
    /// `advance(by: 0)`); without one, deferred work waits for the test.
    public init(nextTurn: @escaping () -> Void = {}) {
        self.nextTurn = nextTurn
    }

    // MARK: SessionTransport

    public func send(_ bytes: [UInt8]) {
        rawOutput.append(contentsOf: bytes)
        bytes.withUnsafeBytes { parser.feed($0) { result in
            if case .success(let value) = result { received.append(value) }
        } }
    }
    public var pendingOutputBytes: Int { simulatedBacklog }
    /// Passes descriptors as SCM_RIGHTS would: the next command takes them.
    public func pass(fileDescriptors fds: [Int32]) { session?.receive(fileDescriptors: fds) }

    /// The client takes what `simulatedBacklog` pretended was queued, as
    /// a socket reports its queue drained.
    public func readBacklog() {
        simulatedBacklog = 0
        session?.outputDidDrain()
    }
    public func pauseInput() { isInputPaused = true }
    public func resumeInput() { isInputPaused = false }
    public func close() { isClosed = true }
    public func closeAfterFlush() { isClosed = true }

    // MARK: Scripting

    /// Sends raw bytes as the client would write them.
    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { session?.receive($0) }
        // As a real loop would: the rest of the session's work runs in the
        // turns that follow, before the test looks at the replies.
        var turns = 0
        while session?.hasDeferredWork == true, turns < Self.turnsPerWrite {
            nextTurn()
            turns += 1
        }
    }

    /// Sends `{"execute": name, "arguments": args, "id": n}` and returns the id used.
    @discardableResult
    public func execute(_ name: String, _ arguments: JSONObject? = nil) -> Int {
        let id = nextID
        nextID += 1
        var request: JSONObject = ["execute": .string(name)]
        if let arguments { request["arguments"] = .object(arguments) }
        request["id"] = .int(Int64(id))
        write(JSONValue.object(request).jsonText)
        return id
    }

    /// Takes every message received so far.
    public func drain() -> [JSONValue] {
        defer { received.removeAll() }
        return received
    }

    /// The reply with `id`, removing it (and nothing else) from `received`.
    public func reply(id: Int) -> JSONValue? {
        guard let i = received.firstIndex(where: { $0["id"] == .int(Int64(id)) }) else { return nil }
        return received.remove(at: i)
    }

    /// Runs a command and returns its reply (`{"return": ...}` or `{"error": ...}`).
    public func call(_ name: String, _ arguments: JSONObject? = nil) -> JSONValue? {
        reply(id: execute(name, arguments))
    }

    /// Names of the events received so far, in order, removing them.
    public func takeEvents() -> [JSONValue] {
        let events = received.filter { $0["event"] != nil }
        received.removeAll { $0["event"] != nil }
        return events
    }

    /// Negotiates capabilities; returns the greeting.
    @discardableResult
    public func negotiate() -> JSONValue? {
        let greeting = received.first { $0["QMP"] != nil }
        received.removeAll { $0["QMP"] != nil }
        _ = call("qmp_capabilities")
        return greeting
    }
}
