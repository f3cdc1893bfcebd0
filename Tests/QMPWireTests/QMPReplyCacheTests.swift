import QMPWire
import Testing

struct QMPReplyCacheTests {
    /// Whatever is cached, every reply is the bytes QMPMessage writes for
    /// that value and id: the stored value, an equal copy, a changed copy,
    /// ids of every kind, scalars and empty containers.
    @Test func everyReplyIsWhatQMPMessageWrites() {
        var cache = QMPReplyCache()
        let info: JSONValue = ["running": true, "singlestep": false, "status": "running"]
        var changed = info
        if case .object(var object) = changed {
            object["status"] = "paused"
            changed = .object(object)
        }
        let equalCopy: JSONValue = ["running": true, "singlestep": false, "status": "running"]
        let values: [JSONValue] = [info, info, equalCopy, changed, info, .array([1, "a"]), .null, .object([:]), .array([]), "text", info]
        let ids: [JSONValue?] = [nil, 1, "libvirt-7", ["a": [1, 2]], nil]
        for value in values {
            for id in ids {
                #expect(cache.success(value, id: id) == QMPMessage.success(value, id: id))
            }
        }
    }

    @Test func aReplyPastTheLimitIsStillWritten() {
        var cache = QMPReplyCache()
        let big: JSONValue = .array((0..<2000).map { .int(Int64($0)) })
        #expect(cache.success(big, id: nil) == QMPMessage.success(big, id: nil))
        #expect(cache.success(big, id: 3) == QMPMessage.success(big, id: 3))
    }

    /// A plugin's text (`.encoded`): every line is what QMPMessage writes
    /// for it, and while the text is the same storage the stored line is
    /// handed again, not written again (no copy per reply).
    @Test func encodedTextIsWrittenOnceWhileItIsTheSameText() throws {
        var cache = QMPReplyCache()
        let text = try #require(CanonicalJSON(validating: #"{"actual": 1073741824}"#))
        let equalCopy = try #require(CanonicalJSON(validating: #"{"actual": 1073741824}"#))
        let other = try #require(CanonicalJSON(validating: #"{"actual": 536870912}"#))
        let info: JSONValue = ["status": "running"]
        for (value, id) in [(text, nil), (text, 1), (equalCopy, nil), (other, "x"), (text, nil)] as [(CanonicalJSON, JSONValue?)] {
            #expect(cache.success(encoded: value, id: id) == QMPMessage.success(encoded: value, id: id))
            // A value between two texts: each form stays what QMPMessage writes.
            #expect(cache.success(info, id: id) == QMPMessage.success(info, id: id))
        }
        let first = cache.success(encoded: text, id: nil)
        let second = cache.success(encoded: text, id: nil)
        #expect(first == second)
        #expect(first.withUnsafeBufferPointer { $0.baseAddress } == second.withUnsafeBufferPointer { $0.baseAddress })
        let copied = cache.success(encoded: equalCopy, id: nil)
        #expect(copied == first)
        #expect(copied.withUnsafeBufferPointer { $0.baseAddress } != first.withUnsafeBufferPointer { $0.baseAddress })
    }
}
