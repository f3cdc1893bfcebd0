import QMPWire
import Testing

/// qmp-dispatch.c's checks, with QEMU 7.2's texts.
struct QMPRequestTests {
    func decodeError(_ text: String, oob: Bool = false) throws -> QMPRequestError? {
        if case .failure(let e) = QMPRequest.decode(try JSONValue(parsing: text), oobEnabled: oob) { return e }
        return nil
    }

    @Test func texts() throws {
        #expect(try decodeError("[]")?.error.desc == "QMP input must be a JSON object")
        #expect(try decodeError(#"{"execute": 1, "id": 7}"#)?.error.desc == "QMP input member 'execute' must be a string")
        #expect(try decodeError(#"{"execute": 1, "id": 7}"#)?.id == 7)
        #expect(try decodeError(#"{"id": 1}"#)?.error.desc == "QMP input lacks member 'execute'")
        #expect(try decodeError(#"{"execute": "x", "arguments": []}"#)?.error.desc == "QMP input member 'arguments' must be an object")
        #expect(try decodeError(#"{"execute": "x", "foo": 1}"#)?.error.desc == "QMP input member 'foo' is unexpected")
        #expect(try decodeError(#"{"exec-oob": "x"}"#)?.error.desc == "QMP input member 'exec-oob' is unexpected")
        #expect(try decodeError(#"{"exec-oob": "x", "execute": "y"}"#, oob: true)?.error.desc.contains("clashes") == true)
    }

    @Test func decodesIdAndArguments() throws {
        let r = try QMPRequest.decode(try JSONValue(parsing: #"{"execute": "a", "arguments": {"b": 1}, "id": [1]}"#), oobEnabled: false).get()
        #expect(r.execute == "a")
        #expect(r.arguments == ["b": 1])
        #expect(r.id == [1])
    }
}
