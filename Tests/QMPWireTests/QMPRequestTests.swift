import QMPWire
import Testing

/// qmp-dispatch.c's checks, with QEMU 7.2's texts (each recorded as sent raw to QEMU).
struct QMPRequestTests {
    func decodeError(_ text: String, oob: Bool = false) throws -> QMPRequestError? {
        if case .failure(let e) = QMPRequest.decode(try JSONValue(parsing: text), oobEnabled: oob) { return e }
        return nil
    }

    func reply(_ text: String, oob: Bool = false) throws -> String? {
        guard let e = try decodeError(text, oob: oob) else { return nil }
        return String(decoding: QMPMessage.failure(e.error, id: e.id), as: UTF8.self)
    }

    @Test func texts() throws {
        // QEMU 7.2: {"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}
        #expect(try reply("[]") == #"{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}"# + "\r\n")
        // QEMU 7.2: {"id": 7, "error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}
        #expect(try reply(#"{"id": 7}"#) == #"{"id": 7, "error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}"# + "\r\n")
        // QEMU 7.2: {"id": 7, "error": {... "QMP input member 'execute' must be a string"}}
        #expect(try decodeError(#"{"execute": 1, "id": 7}"#)?.error.desc == "QMP input member 'execute' must be a string")
        #expect(try decodeError(#"{"execute": 1, "id": 7}"#)?.id == 7)
        #expect(try decodeError(#"{"execute": "query-status", "arguments": [], "id": 7}"#)?.error.desc == "QMP input member 'arguments' must be an object")
        #expect(try decodeError(#"{"execute": "query-status", "foo": 1, "id": 7}"#)?.error.desc == "QMP input member 'foo' is unexpected")
        // QEMU 7.2: with foo, bar, zzz all unexpected, 'bar' is named: QDict order.
        #expect(try decodeError(#"{"execute": "query-status", "foo": 1, "bar": 2, "zzz":3, "id": 7}"#)?.error.desc == "QMP input member 'bar' is unexpected")
        // QEMU 7.2: no id in the input, none in the reply.
        #expect(try reply(#"{"arguments": 5, "foo": 1}"#) == #"{"error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}}"# + "\r\n")
        #expect(try decodeError(#"{"foo": 1, "arguments": 5}"#)?.error.desc == "QMP input member 'arguments' must be an object")
    }

    // QEMU 7.2, OOB not enabled: {"exec-oob": ...} and {"exec-oob": ..., "execute": ...}
    // both -> "QMP input member 'exec-oob' is unexpected".
    // OOB enabled: both orders -> "QMP input member 'execute' clashes with 'exec-oob'";
    // {"exec-oob": 5} -> "QMP input member 'exec-oob' must be a string";
    // {"exec-oob": "query-status"} -> "The command query-status does not support OOB" (the dispatcher's check, not decode's).
    @Test func execOOB() throws {
        #expect(try decodeError(#"{"exec-oob": "query-status", "id": 7}"#)?.error.desc == "QMP input member 'exec-oob' is unexpected")
        #expect(try decodeError(#"{"exec-oob": "query-status", "execute": "query-status", "id": 7}"#)?.error.desc == "QMP input member 'exec-oob' is unexpected")
        #expect(try decodeError(#"{"exec-oob": "query-status", "execute": "query-status", "id": 7}"#, oob: true)?.error.desc == "QMP input member 'execute' clashes with 'exec-oob'")
        #expect(try decodeError(#"{"execute": "query-status", "exec-oob": "query-status", "id": 7}"#, oob: true)?.error.desc == "QMP input member 'execute' clashes with 'exec-oob'")
        #expect(try decodeError(#"{"exec-oob": 5, "id": 7}"#, oob: true)?.error.desc == "QMP input member 'exec-oob' must be a string")
        let r = try QMPRequest.decode(try JSONValue(parsing: #"{"exec-oob": "migrate-pause", "id": 7}"#), oobEnabled: true).get()
        #expect(r.execute == "migrate-pause" && r.isOOB && r.id == 7)
        let plain = try QMPRequest.decode(try JSONValue(parsing: #"{"execute": "query-status"}"#), oobEnabled: true).get()
        #expect(!plain.isOOB && plain.id == nil && plain.arguments == nil)
    }

    // QEMU 7.2 echoes id verbatim whatever it is: null, {}, [..], objects in QDict order.
    @Test func decodesIdAndArguments() throws {
        let r = try QMPRequest.decode(try JSONValue(parsing: #"{"execute": "a", "arguments": {"b": 1}, "id": [1]}"#), oobEnabled: false).get()
        #expect(r.execute == "a")
        #expect(r.arguments == ["b": 1])
        #expect(r.id == [1])
        #expect(qmpReplies(#"{"execute": "query-status", "id": null}"#) == ["ok null"])
        #expect(qmpReplies(#"{"execute": "query-status", "id": {}}"#) == ["ok {}"])
        #expect(qmpReplies(#"{"execute": "query-status", "arguments": {}, "id": 7}"#) == ["ok 7"])
    }

    /// Past 32 members the check no longer sorts them all (a hostile
    /// request may have 500,000): it must still report the member QEMU
    /// reports, the first unknown one in QDict order, or an earlier
    /// problem with a known one.
    @Test(arguments: [40, 1000])
    func largeRequestsReportWhatTheFullOrderReports(count: Int) throws {
        for extra in [#""execute": 1"#, #""execute": "stop""#, #""exec-oob": "stop""#, #""arguments": 5"#] {
            var members = (0..<count).map { "\"k\($0)\": 0" }
            members.insert(extra, at: count / 3)
            let text = "{" + members.joined(separator: ", ") + "}"
            guard case .object(let object) = try JSONValue(parsing: text) else { Issue.record("not an object"); continue }
            // The walk over every member in QEMU's order, as decode did it before.
            var expected: String?
            for index in QDictOrder.writeOrder(of: object) {
                let (key, value) = object.members[index]
                switch key {
                case "execute": if value.stringValue == nil { expected = "QMP input member 'execute' must be a string" }
                case "exec-oob": expected = "QMP input member 'exec-oob' is unexpected"
                case "arguments": expected = "QMP input member 'arguments' must be an object"
                default: expected = "QMP input member '\(key)' is unexpected"
                }
                if expected != nil { break }
            }
            #expect(try decodeError(text)?.error.desc == expected, "\(extra)")
        }
    }
}
