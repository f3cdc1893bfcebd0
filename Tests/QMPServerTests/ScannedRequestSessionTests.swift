import QMPServer
import QMPWire
import Testing
import UVLoop

/// A host that keeps each call's request as the session handed it.
private final class RecordingHost: SessionHost {
    let greeting = QMPMessage.greeting(version: QEMUVersion(major: 7, minor: 2, micro: 0))
    // A turn long enough that one read's requests all run in it.
    var sessionLimits = SessionLimits.testHost(sessionTurnMicroseconds: 1_000_000)
    let clock = ManualScheduler()
    var scheduler: any Scheduler { clock }
    let parserMemory = ParserMemoryBudget()
    var calls: [QMPRequest] = []
    /// When set, the host's command table (`command(named:)`); else the
    /// protocol's default (none).
    var table: CommandNameTable?

    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        .success(NegotiatedCapabilities(outOfBand: arguments?["enable"] != nil))
    }

    func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        calls.append(call.request)
        complete(.success(["ran": .string(call.name)]))
    }

    func sessionDidClose(_ session: Session) {}

    func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? {
        table?.entry(bytes: bytes)
    }
}

/// Requests the scanner recognises (`QMPRequestScanner`) and those it
/// leaves to the full parser, mixed in one read: the session runs them in
/// order, answers errors in their place, stops at its queue limit between
/// two of them, and hands the host the same request either way.
@Suite struct ScannedRequestSessionTests {
    /// Sends `text` in one read to a negotiated session; returns the reply
    /// lines and the requests the host ran.
    private func run(_ text: String, oob: Bool = false, table: CommandNameTable? = nil) -> (lines: [String], calls: [QMPRequest]) {
        let host = RecordingHost()
        host.table = table
        let transport = RawTransport()
        let session = Session(id: 1, host: host, transport: transport, logger: .init(label: "test"))
        session.start()
        let negotiate = oob ? #"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"# : #"{"execute": "qmp_capabilities"}"#
        for piece in [negotiate, text] {
            Array(piece.utf8).withUnsafeBytes { session.receive($0) }
        }
        return (Array(transport.lines.dropFirst(2)), host.calls)
    }

    @Test func recognisedAndFullParserRequestsRunInOrderPastTheQueueLimit() {
        // 24 requests in one read, three times the queue's 8.
        var text = ""
        for n in 0..<8 {
            text += #"{"execute": "query-status", "id": \#(n * 3)}"#
            text += #" {"execute": "stop", "arguments": {"a": 1}, "id": "s\#(n)"}"#
            text += "{\"arguments\": { }, \"execute\": \"cont\", \"id\": \(n * 3 + 2)}\n"
        }
        let (lines, calls) = run(text)
        #expect(lines.count == 24)
        #expect(calls.map(\.execute) == Array(repeating: ["query-status", "stop", "cont"], count: 8).flatMap { $0 })
        for n in 0..<8 {
            #expect(lines[n * 3] == #"{"return": {"ran": "query-status"}, "id": \#(n * 3)}"#)
            #expect(lines[n * 3 + 1] == #"{"return": {"ran": "stop"}, "id": "s\#(n)"}"#)
            #expect(lines[n * 3 + 2] == #"{"return": {"ran": "cont"}, "id": \#(n * 3 + 2)}"#)
            #expect(calls[n * 3].arguments == nil && calls[n * 3].argumentsText == nil && calls[n * 3].id == .int(Int64(n * 3)))
            #expect(calls[n * 3 + 1].arguments == ["a": 1] && calls[n * 3 + 1].argumentsText == Array(#"{"a": 1}"#.utf8) + [0])
            #expect(calls[n * 3 + 2].arguments == [:] && calls[n * 3 + 2].argumentsText == Array("{ }".utf8) + [0])
        }
    }

    @Test func errorsKeepTheirPlaceBetweenRecognisedRequests() {
        let text = #"{"execute": "query-status", "id": "a"}{"execute": "stop", "id": 1, "id": 2}"#
            + #"{"execute": "query-status", "id": "b"}{"exec-oob": "yank", "id": 3}{"execute": "query-status", "id": -0}"#
            + #"}{"execute": "qmp_capabilities", "id": 4}{"execute": "query-status", "id": "c"}"#
        let (lines, calls) = run(text)
        #expect(lines == [
            #"{"return": {"ran": "query-status"}, "id": "a"}"#,
            #"{"error": {"class": "GenericError", "desc": "JSON parse error, duplicate key"}}"#,
            #"{"return": {"ran": "query-status"}, "id": "b"}"#,
            #"{"id": 3, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"#,
            #"{"return": {"ran": "query-status"}, "id": 0}"#,
            #"{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}"#,
            #"{"id": 4, "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}"#,
            #"{"return": {"ran": "query-status"}, "id": "c"}"#,
        ])
        #expect(calls.count == 4)
    }

    /// A recognised request whose name the host's table has comes with
    /// the table's number (`SessionHost.command(named:)`), so the host's
    /// dispatch need not look it up again; one the table lacks, or one the
    /// full parser read, comes with none, and its name as sent.
    @Test func aRecognisedRequestCarriesTheHostsNumberForItsName() {
        let table = CommandNameTable(["stop", "query-status", "cont"])
        let text = #"{"execute": "query-status", "id": 1}{"execute":"cont"}{"execute": "query-statu"}"#
            + #"{"execute": "stop", "arguments": {"a": 1}}{"execute": "qmp_capabilities"}"#
        let (lines, calls) = run(text, table: table)
        #expect(calls.map(\.execute) == ["query-status", "cont", "query-statu", "stop"])
        #expect(calls.map(\.commandNumber) == [1, 2, nil, nil])
        #expect(lines.count == 5)
        // Without a table (the default), no number, the same requests.
        let (plainLines, plainCalls) = run(text)
        #expect(plainCalls.map(\.execute) == calls.map(\.execute) && plainCalls.allSatisfy { $0.commandNumber == nil })
        #expect(plainLines == lines)
    }

    @Test func anOutOfBandRequestStillOvertakesWhenEnabled() {
        let (lines, calls) = run(#"{"execute": "query-status", "id": 1}{"exec-oob": "query-status", "id": 2}"#, oob: true)
        // Read in one go, the exec-oob request runs first, out of band;
        // the recognised one waits its turn in the queue.
        #expect(calls.map(\.isOOB) == [true, false])
        #expect(lines == [#"{"return": {"ran": "query-status"}, "id": 2}"#, #"{"return": {"ran": "query-status"}, "id": 1}"#])
    }
}

/// Keeps what the session writes as text lines, exactly as sent.
private final class RawTransport: SessionTransport {
    var lines: [String] = []
    func send(_ bytes: [UInt8]) {
        lines += String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").map(String.init)
    }
    var pendingOutputBytes: Int { 0 }
    func pauseInput() {}
    func resumeInput() {}
    func close() {}
    func closeAfterFlush() {}
}
