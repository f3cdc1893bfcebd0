import QMPWire
import Testing

/// `CommandNameTable`: every name found by its `String` and by its bytes,
/// with its own number; nothing else found, however close.
struct CommandNameTableTests {
    /// Names shaped like QEMU's: shared heads (`query-`), shared tails
    /// (`-jobs`), every length from 1 to 40, and long names that differ
    /// only in the middle (same length, head and tail words), which only
    /// the full compare tells apart.
    static let names: [String] = {
        var names = ["a", "id", "stop", "cont", "quit", "query-status", "query-block", "query-block-jobs",
                     "query-named-block-nodes", "block-job-cancel", "x-blockdev-change", "qmp_capabilities"]
        names += (1...40).map { String(repeating: "q", count: $0) + "!" }
        names += (0..<200).map { "query-thing-\($0)-jobs" }
        names += (0..<26).map { "x-block-dirty-bitmap-" + String(UnicodeScalar(UInt8(ascii: "a") + UInt8($0))) + "-merge-now" }
        return names
    }()

    @Test func findsEachNameWithItsNumber() {
        let table = CommandNameTable(Self.names)
        #expect(table.count == Self.names.count)
        #expect(table.names == Self.names)
        for (number, name) in Self.names.enumerated() {
            #expect(table[name] == number, "\(name)")
            #expect(Array(name.utf8).withUnsafeBufferPointer { table[bytes: $0] } == number, "\(name)")
        }
    }

    @Test func findsNothingElse() {
        let table = CommandNameTable(Self.names)
        var others = ["", "b", "i", "ids", "query-statu", "query-statuss", "Query-status", "query-status ", "query-thing-200-jobs",
                      "query-thing-1-jobz", "x-block-dirty-bitmap-A-merge-now", "x-block-dirty-bitmap-ab-merge-now",
                      String(repeating: "q", count: 41) + "!", String(repeating: "q", count: 3)]
        // Each name with one byte changed, in the head, the middle or the tail.
        for name in Self.names {
            var bytes = Array(name.utf8)
            for at in Set([0, bytes.count / 2, bytes.count - 1]) {
                bytes[at] ^= 0x20
                others.append(String(decoding: bytes, as: UTF8.self))
                bytes[at] ^= 0x20
            }
        }
        for other in others where !Self.names.contains(other) {
            #expect(table[other] == nil, "\(other)")
            #expect(Array(other.utf8).withUnsafeBufferPointer { table[bytes: $0] } == nil, "\(other)")
        }
    }

    @Test func entryGivesTheStoredNameWithItsNumber() {
        let table = CommandNameTable(Self.names)
        for (number, name) in Self.names.enumerated() {
            let entry = Array(name.utf8).withUnsafeBufferPointer { table.entry(bytes: $0) }
            #expect(entry?.number == number && entry?.name == name, "\(name)")
        }
        #expect(Array("query-statu".utf8).withUnsafeBufferPointer { table.entry(bytes: $0) } == nil)
    }

    /// A hint is taken only when it is the name's own number; any other
    /// (another name's, out of range, negative) costs a lookup, never
    /// another command.
    @Test func aHintIsCheckedAgainstTheName() {
        let table = CommandNameTable(Self.names)
        let status = Self.names.firstIndex(of: "query-status")!
        let stop = Self.names.firstIndex(of: "stop")!
        #expect(table.number(of: "query-status", hint: status) == status)
        #expect(table.number(of: "query-status", hint: nil) == status)
        for wrong in [stop, -1, Self.names.count, Int.max, Int.min] {
            #expect(table.number(of: "query-status", hint: wrong) == status, "\(wrong)")
        }
        #expect(table.number(of: "query-statuss", hint: status) == nil)
        #expect(table.number(of: "", hint: 0) == nil)
    }

    @Test func anEmptyTableFindsNothing() {
        let table = CommandNameTable([String]())
        #expect(table.count == 0 && table["stop"] == nil && table[""] == nil)
    }
}
