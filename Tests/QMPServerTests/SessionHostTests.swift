import QMPServer
import QMPWire
import Testing
import UVLoop

/// Timers that run only when told to.
final class ManualScheduler: Scheduler {
    var nowMilliseconds: UInt64 = 0
    var due: [() -> Void] = []
    func schedule(afterMilliseconds delay: UInt64, _ action: @escaping () -> Void) -> ScheduledAction {
        due.append(action)
        return ScheduledAction(cancel: {})
    }
}

/// Collects what the session writes, line by line.
final class LineTransport: SessionTransport {
    var lines: [JSONValue] = []
    func send(_ bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\r\n") {
            if let value = try? JSONValue(parsing: String(line)) { lines.append(value) }
        }
    }
    var pendingOutputBytes: Int { 0 }
    func pauseInput() {}
    func resumeInput() {}
    func close() {}
    func closeAfterFlush() {}
}

/// A host that is neither a VM nor the control socket: echoes each command's
/// name, and reads `qmp_capabilities` by hand (only `enable: ["oob"]`).
private final class EchoHost: SessionHost {
    let greeting = QMPMessage.greeting(version: QEMUVersion(major: 7, minor: 2, micro: 0))
    var sessionLimits = SessionLimits.testHost()
    let clock = ManualScheduler()
    var scheduler: any Scheduler { clock }
    let parserMemory = ParserMemoryBudget()
    var closed: [UInt64] = []

    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        switch arguments?["enable"] {
        case nil: return .success(NegotiatedCapabilities(outOfBand: false))
        case .array([.string("oob")])?: return .success(NegotiatedCapabilities(outOfBand: true))
        default: return .failure(.generic("only oob"))
        }
    }

    func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        complete(.success(["echo": .string(call.name)]))
    }

    func sessionDidClose(_ session: Session) { closed.append(session.id) }
}

/// The session is QMPServer's alone: it greets, negotiates and orders a
/// client's requests for any `SessionHost`, and counts into `SessionMetrics`.
@Suite struct SessionHostTests {
    @Test func aSessionServesAnyHost() {
        let host = EchoHost()
        let transport = LineTransport()
        let metrics = SessionMetrics()
        let session = Session(id: 7, host: host, transport: transport, logger: .init(label: "test"), metrics: metrics)
        session.start()
        #expect(transport.lines.first?["QMP"]?["version"]?["qemu"]?["minor"] == .int(2))

        func feed(_ text: String) {
            Array(text.utf8).withUnsafeBytes { session.receive($0) }
        }
        feed(#"{"execute": "query-status", "id": 1}"#)
        #expect(transport.lines.last?["error"]?["desc"] == .string("Expecting capabilities negotiation with 'qmp_capabilities'"))
        feed(#"{"execute": "qmp_capabilities", "arguments": {"enable": ["x"]}, "id": 2}"#)
        #expect(transport.lines.last?["error"]?["desc"] == .string("only oob"))
        feed(#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 3}"#)
        #expect(transport.lines.last?["return"] == .object([:]))
        #expect(session.isNegotiated && session.isOOBEnabled)
        feed(#"{"execute": "query-status", "id": 4}"#)
        #expect(transport.lines.last?["return"]?["echo"] == .string("query-status"))
        #expect(transport.lines.last?["id"] == .int(4))
        #expect(metrics.bytesIn > 0 && metrics.bytesOut > 0)

        session.close()
        #expect(host.closed == [7])
    }
}
