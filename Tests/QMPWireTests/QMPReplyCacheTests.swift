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
}
