/// Command names, each numbered by its place in the list the table was
/// made from, found by the name's UTF-8 bytes: what a session's every
/// request looks up, so it costs a cheap hash and two word compares instead
/// of a `String`'s SipHash (a fifth of a pipelined `query-status`'s time in
/// session 8's profile, docs/performance.md). The caller keeps what each
/// number stands for in an array of its own; the table is not generic, so
/// a lookup from another module needs no generic metadata.
///
/// ```swift
/// let table = CommandNameTable(["stop", "query-status"])
/// table["query-status"]        // 1
/// bytes.withUnsafeBufferPointer { table[bytes: $0] }   // the same, from a read buffer
/// ```
///
/// The names are fixed when the table is made (from a schema, once), so
/// no client can choose where a key lies: a name's slot depends on the
/// name alone, and a lookup of any bytes ends at an empty slot within the
/// longest run of full ones (at most half the slots are full). A slot
/// keeps its name's length and its first and last eight bytes, which
/// settle a name of up to 16 bytes (most of QEMU's) without touching the
/// key storage; a longer one is compared in full.
public struct CommandNameTable: Sendable {
    /// One name's place: what the lookup compares, and where the rest of
    /// the name and its number are. `length == 0` marks an empty slot (no
    /// command has an empty name; a lookup of zero bytes finds nothing).
    private struct Slot: Sendable {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var length: Int32 = 0
        var number: Int32 = 0
        var keyStart: Int32 = 0
    }

    private var slots: [Slot]
    private var keyBytes: [UInt8] = []
    /// The names, in their numbers' order.
    public private(set) var names: [String] = []
    private let mask: Int

    /// A table of `names`, numbered 0, 1, ... in that order. A name must
    /// not be empty or given twice.
    public init(_ names: some Sequence<String>) {
        let list = Array(names)
        var capacity = 8
        while capacity < 2 * list.count { capacity *= 2 }
        slots = Array(repeating: Slot(), count: capacity)
        mask = capacity - 1
        for name in list { insert(name) }
    }

    /// The number of names.
    public var count: Int { names.count }

    /// The number of the name whose UTF-8 bytes are `name`.
    @inline(__always)
    public subscript(bytes name: UnsafeBufferPointer<UInt8>) -> Int? {
        find(name)
    }

    /// The number of `name`.
    @inline(__always)
    public subscript(name: String) -> Int? {
        var name = name
        return name.withUTF8 { find($0) }
    }

    /// The number and the stored name of the name whose UTF-8 bytes are
    /// `name`: what a session takes for a request it recognised in its
    /// read buffer, so the name is not decoded and checked as UTF-8 again
    /// (a copy of the stored `String`), and its number rides with the
    /// request (`number(of:hint:)`).
    @inline(__always)
    public func entry(bytes name: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? {
        guard let number = find(name) else { return nil }
        return (number, names[number])
    }

    /// The number of `name`, or `hint` when it is that name's number here:
    /// a request whose name was found by its bytes when it was read
    /// (`entry(bytes:)`) is not looked up a second time when it runs. Any
    /// other hint (nil, another table's number) is checked and ignored, so
    /// a wrong one costs a lookup, never another command.
    @inline(__always)
    public func number(of name: String, hint: Int?) -> Int? {
        if let hint, hint >= 0, hint < names.count, names[hint] == name { return hint }
        return self[name]
    }

    private mutating func insert(_ name: String) {
        let bytes = Array(name.utf8)
        precondition(!bytes.isEmpty && bytes.count <= Int(Int32.max), "a command name is 1...Int32.max bytes")
        bytes.withUnsafeBufferPointer { key in
            precondition(find(key) == nil, "command name \(name) given twice")
            let (head, tail) = Self.words(key)
            var s = Self.hash(head, tail, key.count) & mask
            while slots[s].length != 0 { s = (s + 1) & mask }
            slots[s] = Slot(head: head, tail: tail, length: Int32(key.count), number: Int32(names.count), keyStart: Int32(keyBytes.count))
        }
        keyBytes.append(contentsOf: bytes)
        names.append(name)
    }

    /// The number of the name `key`, or nil. The probe indexes `slots`
    /// itself, not through `withUnsafeBufferPointer`, whose closure made a
    /// VM's lookup retain and release the array (the table is reached
    /// through the VM's dispatch): a retain pair per request.
    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !key.isEmpty else { return nil }
        let (head, tail) = Self.words(key)
        let length = Int32(truncatingIfNeeded: key.count)
        var s = Self.hash(head, tail, key.count) & mask
        while true {
            let slot = slots[s]
            if slot.length == 0 { return nil }
            if slot.length == length, slot.head == head, slot.tail == tail, key.count == Int(length),
               key.count <= 16 || restMatches(key, at: Int(slot.keyStart)) {
                return Int(slot.number)
            }
            s = (s &+ 1) & mask
        }
    }

    /// Bytes 8..<count-8 of a name longer than 16 (the head and tail words
    /// cover the rest).
    private func restMatches(_ key: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        keyBytes.withUnsafeBufferPointer { stored in
            for k in 8..<(key.count - 8) where stored[start + k] != key[k] { return false }
            return true
        }
    }

    /// The first and last eight bytes (overlapping for 8...15 bytes); a
    /// name of under eight bytes is its bytes in `head`, `tail` 0.
    @inline(__always)
    private static func words(_ key: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        let n = key.count
        let raw = UnsafeRawPointer(key.baseAddress!)
        if n >= 8 {
            return (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
        }
        var head: UInt64 = 0
        for k in 0..<n { head |= UInt64(key[k]) << (8 * UInt64(k)) }
        return (head, 0)
    }

    /// A multiply-and-fold of the length and the two words: cheap, and
    /// enough to spread QEMU's names (many share a `query-` head or a
    /// tail), whose collisions cost only a probe of the next slot.
    @inline(__always)
    private static func hash(_ head: UInt64, _ tail: UInt64, _ count: Int) -> Int {
        var h = (head ^ (tail &<< 29 | tail &>> 35) ^ UInt64(truncatingIfNeeded: count)) &* 0x9E37_79B9_7F4A_7C15
        h ^= h &>> 32
        return Int(truncatingIfNeeded: h)
    }
}
