import Dispatch
import SharedValues
import Testing

/// `RecentValues`: what its users (the kit's settings and machine
/// descriptions, CPU layouts, the host's machine texts and realized
/// properties) rely on: a value made once per key, the most recent kept
/// first, the oldest dropped past the capacity, a failed make not kept.
@Suite struct RecentValuesTests {
    struct Refused: Error {}

    /// Counts how often a value was made.
    final class Made: @unchecked Sendable {
        let count = Locked(0)
        func make(_ value: String) -> String {
            count.withLock { $0 += 1 }
            return value
        }
        var times: Int { count.withLock { $0 } }
    }

    @Test func aKeyIsMadeOnce() {
        let values = RecentValues<Int, String>(capacity: 4)
        let made = Made()
        #expect(values.value(for: 1) { made.make("one") } == "one")
        #expect(values.value(for: 1) { made.make("other") } == "one")
        #expect(values.value(for: 2) { made.make("two") } == "two")
        #expect(made.times == 2)
        #expect(values.keys == [2, 1])
    }

    @Test func theOldestGoesPastTheCapacity() {
        let values = RecentValues<Int, Int>(capacity: 3)
        for key in 0..<5 { values.insert(key * 10, for: key) }
        #expect(values.keys == [4, 3, 2])
        #expect(values.value(for: 1) == nil)
        #expect(values.value(for: 2) == 20)
    }

    /// A value inserted again under its key replaces the kept one and
    /// comes first; the list never holds a key twice.
    @Test func anEqualKeyIsReplaced() {
        let values = RecentValues<String, Int>(capacity: 4)
        values.insert(1, for: "a")
        values.insert(2, for: "b")
        values.insert(3, for: "a")
        #expect(values.keys == ["a", "b"])
        #expect(values.value(for: "a") == 3)
    }

    /// A lookup by a match, as the kit looks up a text's bytes without
    /// making an array of them; the most recent match wins.
    @Test func aLookUpByMatch() {
        let values = RecentValues<[UInt8], String>(capacity: 4)
        values.insert("short", for: [1, 2])
        values.insert("long", for: [1, 2, 3])
        let bytes: [UInt8] = [1, 2, 3]
        let found = bytes.withUnsafeBytes { buffer in values.first { $0.elementsEqual(buffer) } }
        #expect(found?.key == [1, 2, 3] && found?.value == "long")
        #expect(values.first { $0.first == 1 }?.value == "long")
        #expect(values.first { $0.isEmpty } == nil)
    }

    @Test func aFailedMakeIsNotKept() {
        let values = RecentValues<Int, String>(capacity: 2)
        #expect(throws: Refused.self) {
            try values.value(for: 1) { () throws(Refused) -> String in throw Refused() }
        }
        #expect(values.keys.isEmpty)
    }

    /// Threads that make values of a few keys at once each get the value of
    /// their key, and the list ends with each key once.
    @Test func manyThreadsFewKeys() {
        let values = RecentValues<Int, String>(capacity: 8)
        let wrong = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for n in 0..<2_000 {
                let key = (thread + n) % 4
                if values.value(for: key, orMake: { "value \(key)" }) != "value \(key)" { wrong.withLock { $0 += 1 } }
            }
        }
        #expect(wrong.withLock { $0 } == 0)
        #expect(values.keys.sorted() == [0, 1, 2, 3])
    }
}
