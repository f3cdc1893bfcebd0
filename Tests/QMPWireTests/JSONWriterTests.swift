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

    @Test func separators() {
        #expect(text([1, [], [:], nil, ["a": true]]) == #"[1, [], {}, null, {"a": true}]"#)
    }

    // QEMU 7.2 echoing id {"b":1,"a":2,"c":[null,true,false]} wrote {"a": 2, "b": 1, "c": [null, true, false]};
    // {"execute": ..., "foo": 1, "bar": 2, "zzz": 3} is refused for 'bar' first: the same QDict walk.
    @Test func parsedObjectsAreWrittenInQDictOrder() throws {
        #expect(try JSONValue(parsing: #"{"b":1,"a":2,"c":[null,true,false]}"#).jsonText == #"{"a": 2, "b": 1, "c": [null, true, false]}"#)
    }

    @Test func largeObjectsUseTheSameOrder() {
        var object = JSONObject()
        for k in 0..<100 { object["key\(k)"] = .int(Int64(k)) }
        let order = QDictOrder.writeOrder(of: object)
        let viaTemporary = QDictOrder.withWriteOrder(of: object) { Array($0) }
        #expect(order == viaTemporary)
        var small = JSONObject()
        for k in 0..<20 { small["key\(k)"] = .int(Int64(k)) }
        #expect(QDictOrder.withWriteOrder(of: small) { Array($0) } == QDictOrder.writeOrder(of: small))
    }

    @Test func writerAppends() {
        var w = JSONWriter(reservingCapacity: 4)
        w.write(["a": 1])
        w.writeRaw("\r\n".utf8)
        w.write("x")
        #expect(String(decoding: w.bytes, as: UTF8.self) == "{\"a\": 1}\r\n\"x\"")
        #expect(JSONValue.string("é").jsonBytes() == Array(#""\u00E9""#.utf8))
    }

    @Test func roundTrip() throws {
        let values: [JSONValue] = [
            ["a": [1, -2, 3.25, "x\u{0}y", true, nil], "b": ["c": "é😀\u{7F}\u{1F}\"\\/"]],
            [], "", .uint(UInt64.max), .int(Int64.min), 0.1, 1e300, -0.5, 5e-324,
            ["execute": "device_add", "arguments": ["driver": "virtio-net-pci", "id": "nic0", "bus": "pcie.0"], "id": ["x": [1, [2, [3]]]]],
        ]
        for v in values {
            #expect(try JSONValue(parsing: v.jsonText) == v)
            #expect(try JSONValue(parsing: v.jsonText).jsonText == v.jsonText)
            // and through the stream parser, one byte at a time
            #expect(parseAll(v.jsonBytes() + [0x20], chunk: 1) == [.success(v)])
        }
    }
}

/// Passing QEMU's own output on unchanged (proxy mode).
/// `jsonPrefix(atMost:)`: the whole text when it fits, else a prefix past
/// the limit that stops soon after it (the fleet page keeps 2 KiB of replies).
struct JSONPrefixTests {
    @Test func aTextThatFitsIsWhole() {
        let value: JSONValue = ["return": ["a": [1, 2, 3], "b": "x"]]
        #expect(value.jsonPrefix(atMost: 1000) == value.jsonText)
        #expect(value.jsonPrefix(atMost: value.jsonText.utf8.count) == value.jsonText)
    }

    @Test func aLongTextStopsSoonAfterTheLimit() {
        let value = JSONValue.array((0..<100_000).map { .object(["name": .string("member-\($0)"), "n": .int(Int64($0))]) })
        let whole = value.jsonText
        let prefix = value.jsonPrefix(atMost: 2048)
        #expect(prefix.utf8.count > 2048)
        #expect(prefix.utf8.count < 2048 + 64)
        #expect(whole.hasPrefix(prefix))
    }
}

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
