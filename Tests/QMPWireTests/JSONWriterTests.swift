import QMPWire
import Testing

/// The bytes QEMU 7.2 writes, recorded from `qemu-system-x86_64 -machine pc`.
struct JSONWriterTests {
    func text(_ v: JSONValue) -> String { v.jsonText }

    // QEMU 7.2: {"return": {"status": "prelaunch", "singlestep": false, "running": false}}
    @Test func membersComeInQDictOrder() {
        #expect(text(["running": false, "singlestep": false, "status": "prelaunch"])
            == #"{"status": "prelaunch", "singlestep": false, "running": false}"#)
        #expect(text(["major": 7, "minor": 2, "micro": 22]) == #"{"micro": 22, "minor": 2, "major": 7}"#)
        #expect(text(["return": [:], "id": 1]) == #"{"return": {}, "id": 1}"#)
        #expect(text(["error": ["class": "GenericError", "desc": "x"], "id": 1])
            == #"{"id": 1, "error": {"class": "GenericError", "desc": "x"}}"#)
        #expect(text(["event": "STOP", "timestamp": ["seconds": 1, "microseconds": 2]])
            == #"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}"#)
    }

    @Test func stringEscapes() {
        #expect(text("a\"b\\c\n\r\t\u{08}\u{0C}/") == #""a\"b\\c\n\r\t\b\f/""#)
        #expect(text("é") == #""\u00E9""#)
        #expect(text("😀") == #""\uD83D\uDE00""#)
        #expect(text("\u{7F}\u{01}") == #""\u007F\u0001""#)
    }

    @Test func numbers() {
        #expect(text(.int(-42)) == "-42")
        #expect(text(.int(Int64.min)) == "-9223372036854775808")
        #expect(text(.uint(UInt64.max)) == "18446744073709551615")
        #expect(text(.double(0.1)) == "0.10000000000000001")
        #expect(text(.double(1.0)) == "1")
        #expect(text(.double(1e300)) == "1.0000000000000001e+300")
        #expect(text([1, [], [:], nil]) == "[1, [], {}, null]")
    }

    @Test func roundTrip() throws {
        let values: [JSONValue] = [
            ["a": [1, -2, 3.25, "x\u{0}y", true, nil], "b": ["c": "é😀"]],
            [], "", .uint(UInt64.max),
        ]
        for v in values {
            #expect(try JSONValue(parsing: v.jsonText) == v)
        }
    }

    @Test func qmpLines() {
        #expect(String(decoding: QMPMessage.greeting(version: QEMUVersion(major: 7, minor: 2, micro: 22, package: "Debian 1:7.2+dfsg-7+deb12u18+b3")), as: UTF8.self)
            == #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"# + "\r\n")
        #expect(String(decoding: QMPMessage.event("RESET", data: ["guest": false, "reason": "host-qmp-system-reset"], seconds: 1, microseconds: 5), as: UTF8.self)
            == #"{"timestamp": {"seconds": 1, "microseconds": 5}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}"# + "\r\n")
    }
}

/// Passing QEMU's own output on unchanged (proxy mode).
struct PreservingOrderTests {
    @Test func qemuBytesSurviveAParseAndAWrite() throws {
        let lines = [
            #"{"return": {"status": "prelaunch", "singlestep": false, "running": false}}"#,
            #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"#,
            #"{"return": [{"thread-id": 6029, "props": {"core-id": 0, "thread-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}]}"#,
        ]
        for line in lines {
            let parsed = try JSONValue(parsing: line)
            #expect(QDictOrder.preservingWrittenOrder(parsed).jsonText == line)
        }
    }
}
