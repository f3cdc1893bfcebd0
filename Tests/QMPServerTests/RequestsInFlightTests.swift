import QMPServer
import QMPWire
import Testing
import UVLoop

extension LineTransport {
    /// The ids of the replies, in the order written.
    var ids: [JSONValue] { lines.compactMap { $0["id"] } }
}

/// A host that takes `create` alongside other requests (up to `limit` in
/// flight) and answers every command only when the test says, so the
/// test decides the order in which they complete. `sync` answers at once.
private final class HeldHost: SessionHost {
    let greeting = QMPMessage.greeting(version: QEMUVersion(major: 7, minor: 2, micro: 0))
    let sessionLimits = SessionLimits.testHost(negotiationTimeoutMilliseconds: 0, sessionTurnMicroseconds: 1_000_000)
    let clock = ManualScheduler()
    var scheduler: any Scheduler { clock }
    let parserMemory = ParserMemoryBudget()
    let limit: Int
    /// Started and not answered, by request id.
    var held: [Int64: (QMPReply) -> Void] = [:]
    /// Request ids in the order they started, and whether alongside others.
    var started: [(id: Int64, alongside: Bool)] = []

    init(limit: Int) { self.limit = limit }

    var requestsInFlightLimit: Int { limit }

    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        .success(NegotiatedCapabilities(outOfBand: false))
    }

    func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        start(call, alongside: false, complete)
    }

    func dispatchAlongside(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) -> Bool {
        guard call.name == "create" || call.name == "sync" else { return false }
        start(call, alongside: true, complete)
        return true
    }

    private func start(_ call: CommandCall, alongside: Bool, _ complete: @escaping (QMPReply) -> Void) {
        let id = call.request.id?.int64Value ?? -1
        started.append((id, alongside))
        if call.name == "sync" { return complete(.success(["now": .int(id)])) }
        held[id] = complete
    }

    /// Answers request `id`: an error for a name starting with `fail`.
    func answer(_ id: Int64, failing: Bool = false) {
        let complete = held.removeValue(forKey: id)
        complete?(failing ? .failure(.generic("failed \(id)")) : .success(["done": .int(id)]))
    }

    func sessionDidClose(_ session: Session) {}
}

/// A host whose `requestsInFlightLimit` is above 1 (the control socket)
/// has more than one of a session's requests in flight; the session keeps
/// the replies in request order and honours the limit.
@Suite struct RequestsInFlightTests {
    private func session(_ host: HeldHost) -> (Session, LineTransport) {
        let transport = LineTransport()
        let session = Session(id: 1, host: host, transport: transport, logger: .init(label: "test"))
        session.start()
        Array(#"{"execute": "qmp_capabilities", "id": 0}"#.utf8).withUnsafeBytes { session.receive($0) }
        transport.lines.removeAll()
        return (session, transport)
    }

    private func feed(_ session: Session, _ text: String) {
        Array(text.utf8).withUnsafeBytes { session.receive($0) }
    }

    private func request(_ name: String, _ id: Int) -> String { #"{"execute": "\#(name)", "id": \#(id)}"# }

    @Test func theLimitIsHonouredAndRepliesKeepRequestOrder() {
        let host = HeldHost(limit: 3)
        let (session, transport) = session(host)
        feed(session, (1...5).map { request("create", $0) }.joined())
        // Three in flight at once.
        #expect(host.started.map(\.id) == [1, 2, 3])
        #expect(host.started.map(\.alongside) == [true, true, true])
        // Answered last to first: nothing leaves before the first's reply.
        host.answer(3)
        host.answer(2)
        #expect(transport.ids.isEmpty)
        #expect(host.started.count == 3, "an answered reply still waiting counts against the limit")
        host.answer(1)
        #expect(transport.ids == [1, 2, 3])
        #expect(host.started.map(\.id) == [1, 2, 3, 4, 5])
        host.answer(5)
        host.answer(4)
        #expect(transport.ids == [1, 2, 3, 4, 5])
        #expect(transport.lines.map { $0["return"]?["done"] } == [1, 2, 3, 4, 5])
    }

    @Test func slowAndFastRequestsInterleavedAnswerInOrder() {
        let host = HeldHost(limit: 8)
        let (session, transport) = session(host)
        // `sync` answers at once, `create` when told: slow, fast, slow, fast, ...
        feed(session, (1...6).map { request($0 % 2 == 1 ? "create" : "sync", $0) }.joined())
        #expect(host.started.map(\.id) == [1, 2, 3, 4, 5, 6])
        #expect(transport.ids.isEmpty)
        host.answer(5)
        host.answer(1)
        #expect(transport.ids == [1, 2])
        host.answer(3)
        #expect(transport.ids == [1, 2, 3, 4, 5, 6])
    }

    @Test func anErrorInTheMiddleKeepsItsPlace() {
        let host = HeldHost(limit: 8)
        let (session, transport) = session(host)
        // A failing command, then a parse error, then an unknown request
        // shape: each answered in its place.
        feed(session, request("create", 1) + request("create", 2) + #"{"execute": 5, "id": 3}"# + request("create", 4) + "}"
            + request("create", 6))
        // The bad request waits for the two before it.
        #expect(host.started.map(\.id) == [1, 2])
        host.answer(2, failing: true)
        host.answer(1)
        // Answered, then the next starts alone; the stray '}' waits for it.
        #expect(host.started.map(\.id) == [1, 2, 4])
        #expect(transport.ids == [1, 2, 3])
        host.answer(4)
        #expect(host.started.map(\.id) == [1, 2, 4, 6])
        host.answer(6)
        #expect(transport.lines.count == 6)
        #expect(transport.lines[0]["return"]?["done"] == 1)
        #expect(transport.lines[1]["error"]?["desc"] == "failed 2")
        #expect(transport.lines[2]["id"] == 3 && transport.lines[2]["error"] != nil)
        #expect(transport.lines[3]["return"]?["done"] == 4)
        #expect(transport.lines[4]["error"] != nil && transport.lines[4]["id"] == nil, "the stray '}'")
        #expect(transport.lines[5]["return"]?["done"] == 6)
    }

    @Test func aRequestTheHostDeclinesWaitsAndRunsAlone() {
        let host = HeldHost(limit: 8)
        let (session, transport) = session(host)
        feed(session, request("create", 1) + request("create", 2) + request("destroy", 3) + request("create", 4))
        #expect(host.started.map(\.id) == [1, 2])
        host.answer(1)
        #expect(host.started.map(\.id) == [1, 2], "destroy waits for every request before it")
        host.answer(2)
        #expect(host.started.map(\.id) == [1, 2, 3])
        #expect(host.started[2].alongside == false)
        #expect(host.started.count == 3, "nothing starts beside it")
        host.answer(3)
        #expect(host.started.map(\.id) == [1, 2, 3, 4])
        host.answer(4)
        #expect(transport.ids == [1, 2, 3, 4])
    }

    @Test func aHostOfOneAtATimeRunsOneAtATime() {
        let host = HeldHost(limit: 1)
        let (session, transport) = session(host)
        feed(session, request("create", 1) + request("create", 2))
        #expect(host.started.map(\.id) == [1])
        host.answer(1)
        #expect(host.started.map(\.id) == [1, 2])
        host.answer(2)
        #expect(transport.ids == [1, 2])
    }
}
