@testable import QMPWire
import Testing

/// `JSONObject`'s `==`: member for member in any order, and at once for
/// two copies of one object.
@Suite struct JSONObjectEqualityTests {
    @Test func copiesShareStorageUntilOneChanges() {
        let settings: JSONObject = ["block": ["drives": [["id": "drive0"]]], "net": [:], "tpm": [:]]
        var copy = settings
        #expect(copy.sharesStorage(with: settings))
        #expect(copy == settings)
        copy["tpm"] = ["model": "tpm-crb"]
        #expect(!copy.sharesStorage(with: settings))
        #expect(copy != settings)
        copy["tpm"] = [:]
        #expect(copy == settings)
    }

    @Test func equalMembersInAnotherOrderOrStorage() {
        let a: JSONObject = ["x": 1, "y": ["z": true]]
        let b: JSONObject = ["y": ["z": true], "x": 1]
        #expect(!a.sharesStorage(with: b))
        #expect(a == b)
        #expect(a != ["x": 1, "y": ["z": false]])
        #expect(a != ["x": 1])
        #expect(JSONObject() == JSONObject())
        #expect(!JSONObject().sharesStorage(with: JSONObject()))
    }
}
