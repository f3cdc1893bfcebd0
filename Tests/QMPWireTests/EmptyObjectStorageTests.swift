import QMPWire
import Testing

/// `{}` parses to an object with no storage: a host keeps many of them
/// (the properties of each VM's devices realized without any), and the
/// members a parsed object reserves were 192 bytes each.
struct EmptyObjectStorageTests {
    @Test func anEmptyObjectKeepsNoStorage() throws {
        let value = try JSONValue(parsing: #"{"a": {}, "b": [{}], "c": {"d": 1}}"#)
        let a = try #require(value["a"]?.objectValue)
        let inArray = try #require(value["b"]?.arrayValue?.first?.objectValue)
        #expect(a.isEmpty && a.members.capacity == 0)
        #expect(inArray.isEmpty && inArray.members.capacity == 0)
        #expect(try JSONValue(parsing: "{}").objectValue?.members.capacity == 0)
        // A non-empty object is as before.
        #expect(value["c"]?["d"]?.int64Value == 1)
    }
}
