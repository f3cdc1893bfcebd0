import QMPServer
import QMPWire
import Testing
import UVLoop

/// Keeps what it is sent and says it holds `queued` bytes more: a client
/// that reads nothing once `queued` is set high.
private final class QueueTransport: SessionTransport {
    var received: [[UInt8]] = []
    var queued = 0
    var closed = false
    func send(_ bytes: [UInt8]) { received.append(bytes) }
    var pendingOutputBytes: Int { queued }
    func pauseInput() {}
    func resumeInput() {}
    func close() { closed = true }
    func closeAfterFlush() { closed = true }
}

/// A host with events, as a VM keeps them: sessions by id, and the
/// negotiated ones in `EventReceivers`.
private final class EventHost: SessionHost {
    let greeting = QMPMessage.greeting(version: QEMUVersion(major: 7, minor: 2, micro: 0))
    /// No negotiation deadline: its closure would hold the session.
    var sessionLimits = SessionLimits.testHost(negotiationTimeoutMilliseconds: 0)
    let clock = ManualScheduler()
    var scheduler: any Scheduler { clock }
    let parserMemory = ParserMemoryBudget()
    var sessions: [UInt64: Session] = [:]
    let receivers = EventReceivers()
    var closed: [UInt64] = []

    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        .success(NegotiatedCapabilities(outOfBand: false))
    }

    func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        complete(.success([:]))
    }

    func sessionDidNegotiate(_ session: Session) { receivers.add(session) }

    func sessionDidClose(_ session: Session) {
        closed.append(session.id)
        sessions[session.id] = nil
        receivers.remove(session)
    }

    /// A client attached; negotiated unless told otherwise.
    func attach(id: UInt64, negotiated: Bool = true) -> (Session, QueueTransport) {
        let transport = QueueTransport()
        let session = Session(id: id, host: self, transport: transport, logger: .init(label: "test"))
        sessions[id] = session
        session.start()
        if negotiated {
            Array(#"{"execute": "qmp_capabilities"}"#.utf8).withUnsafeBytes { session.receive($0) }
        }
        transport.received.removeAll()
        return (session, transport)
    }
}

/// A host's events go to its negotiated sessions only, each once, with no
/// reference counting per session; a session that leaves (even in the
/// middle of a delivery, disconnected by it) is never reached again.
@Suite struct EventReceiversTests {
    let event = Array("{\"event\": \"STOP\"}\r\n".utf8)

    @Test func eventsGoToNegotiatedSessionsOnly() {
        let host = EventHost()
        let (_, first) = host.attach(id: 1)
        let (_, waiting) = host.attach(id: 2, negotiated: false)
        let (_, second) = host.attach(id: 3)
        #expect(host.receivers.count == 2)
        host.receivers.deliver(event)
        #expect(first.received == [event])
        #expect(second.received == [event])
        #expect(waiting.received.isEmpty)
    }

    @Test func aSessionThatLeftGetsNothingMore() {
        let host = EventHost()
        let (first, firstTransport) = host.attach(id: 1)
        let (_, second) = host.attach(id: 2)
        let (never, _) = host.attach(id: 3, negotiated: false)
        first.close()
        never.close()
        #expect(host.receivers.count == 1)
        host.receivers.deliver(event)
        #expect(firstTransport.received.isEmpty)
        #expect(second.received == [event])
    }

    /// A client too far behind is disconnected by the delivery itself: it
    /// leaves the list in the middle of the pass, the sessions after it
    /// still get the event, and it is let go once the pass is over.
    @Test func aSessionDisconnectedDuringDeliveryIsSkippedThenReleased() {
        let host = EventHost()
        let (_, before) = host.attach(id: 1)
        weak var behind: Session?
        do {
            let (session, transport) = host.attach(id: 2)
            transport.queued = 10 << 20
            behind = session
        }
        let (_, after) = host.attach(id: 3)
        host.receivers.deliver(event)
        #expect(host.closed == [2])
        #expect(before.received == [event])
        #expect(after.received == [event])
        #expect(host.receivers.count == 2)
        #expect(behind == nil)
        host.receivers.deliver(event)
        #expect(before.received == [event, event])
        #expect(after.received == [event, event])
    }

    @Test func removeAllStopsEveryDelivery() {
        let host = EventHost()
        let (_, transport) = host.attach(id: 1)
        host.receivers.removeAll()
        #expect(host.receivers.count == 0)
        host.receivers.deliver(event)
        #expect(transport.received.isEmpty)
    }
}
