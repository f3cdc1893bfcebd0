import QMPWire
import Testing

/// Whole QMP lines, compared with what QEMU 7.2.22 sent (`-machine none`).
struct QMPMessageTests {
    func line(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // QEMU 7.2: {"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}\r\n
    @Test func greeting() {
        let version = QEMUVersion(major: 7, minor: 2, micro: 22, package: "Debian 1:7.2+dfsg-7+deb12u18+b3")
        #expect(line(QMPMessage.greeting(version: version))
            == #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"# + "\r\n")
        #expect(line(QMPMessage.greeting(version: .default72, capabilities: []))
            == #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}"# + "\r\n")
    }

    // QEMU 7.2: {"return": {}, "id": "s"}\r\n, {"return": {}}\r\n,
    // {"return": {"status": "running", "singlestep": false, "running": true}, "id": 7}\r\n
    @Test func success() {
        #expect(line(QMPMessage.success([:], id: "s")) == #"{"return": {}, "id": "s"}"# + "\r\n")
        #expect(line(QMPMessage.success([:], id: nil)) == #"{"return": {}}"# + "\r\n")
        #expect(line(QMPMessage.success(["running": true, "singlestep": false, "status": "running"], id: 7))
            == #"{"return": {"status": "running", "singlestep": false, "running": true}, "id": 7}"# + "\r\n")
        #expect(line(QMPMessage.success([:], id: nil)) == line(JSONValue.object(["return": [:]]).jsonBytes() + [13, 10]))
        #expect(line(QMPMessage.success([1], id: ["b": 1, "a": 2])) == JSONValue.object(["return": [1], "id": ["b": 1, "a": 2]]).jsonText + "\r\n")
    }

    // QEMU 7.2: {"id": "again", "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}\r\n
    // and, for a parse error, no id: {"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}\r\n
    @Test func failure() {
        #expect(line(QMPMessage.failure(QMPError(.commandNotFound, "Capabilities negotiation is already complete, command ignored"), id: "again"))
            == #"{"id": "again", "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}"# + "\r\n")
        #expect(line(QMPMessage.failure(.generic("JSON parse error, expecting value"), id: nil))
            == #"{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}"# + "\r\n")
        let error: JSONValue = ["class": "GenericError", "desc": "x"]
        #expect(line(QMPMessage.failure(.generic("x"), id: [1])) == JSONValue.object(["error": error, "id": [1]]).jsonText + "\r\n")
    }

    // QEMU 7.2 after stop / system_reset / cont:
    // {"timestamp": {"seconds": 1795588426, "microseconds": 523531}, "event": "STOP"}\r\n
    // {"timestamp": {"seconds": 1795588426, "microseconds": 523755}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}\r\n
    @Test func event() {
        #expect(line(QMPMessage.event("STOP", data: nil, seconds: 1795588426, microseconds: 523531))
            == #"{"timestamp": {"seconds": 1795588426, "microseconds": 523531}, "event": "STOP"}"# + "\r\n")
        #expect(line(QMPMessage.event("RESET", data: ["guest": false, "reason": "host-qmp-system-reset"], seconds: 1795588426, microseconds: 523755))
            == #"{"timestamp": {"seconds": 1795588426, "microseconds": 523755}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}"# + "\r\n")
        // The direct writing agrees with the QDict order of the same members.
        let built: JSONValue = ["event": "X", "timestamp": ["seconds": 1, "microseconds": 2], "data": ["a": 1]]
        #expect(line(QMPMessage.event("X", data: ["a": 1], seconds: 1, microseconds: 2)) == built.jsonText + "\r\n")
    }
}
