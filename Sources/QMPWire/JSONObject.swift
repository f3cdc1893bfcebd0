/// A JSON object that keeps its members in order.
///
/// QEMU writes members in a fixed order (`{"return": {}, "id": 1}`, the
/// timestamp before the event name), and clients that compare transcripts see
/// it, so order is part of the value we write. Lookup is linear: QMP objects
/// are small, and a linear scan over a few members beats hashing.
///
/// Duplicate keys are not stored: `self[key] = value` replaces. The parser
/// refuses an object with a repeated key, as QEMU's does
/// (`DuplicateKeyCheck`).
public struct JSONObject: Sendable {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init() { members = [] }

    public init(_ members: [(key: String, value: JSONValue)]) {
        self.members = []
        self.members.reserveCapacity(members.count)
        for m in members { self[m.key] = m.value }
    }

    public init(minimumCapacity: Int) {
        members = []
        members.reserveCapacity(minimumCapacity)
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key: key, value: newValue))
            }
        }
    }

    /// Appends without checking for an existing key: for builders that know
    /// their keys are distinct (the parser checks before it calls this).
    public mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
        members.append((key: key, value: value))
    }

    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = members.firstIndex(where: { $0.key == key }) else { return nil }
        return members.remove(at: i).value
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }
}

extension JSONObject: Equatable {
    /// Member for member, in any order; at once for two copies of one
    /// object (the same storage), as `Array`'s `==` is. A template's VMs
    /// share their settings object, and the fleet compares it for each VM
    /// (which texts and command table it had last): twelve plugins' worth
    /// of nested members each time, where one pointer compare decides.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.sharesStorage(with: rhs) { return true }
        for m in lhs.members {
            guard let other = rhs[m.key], other == m.value else { return false }
        }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONObject {
    /// Whether both are copies of one object: the members' storage is the
    /// same, so they hold the same members (nothing changes storage that
    /// another value still shares).
    func sharesStorage(with other: JSONObject) -> Bool {
        guard !members.isEmpty else { return false }
        return members.withUnsafeBufferPointer { mine in
            other.members.withUnsafeBufferPointer { $0.baseAddress == mine.baseAddress }
        }
    }
}
