/// Finds a repeated key while an object is being parsed, in time linear in
/// the object's size.
///
/// QEMU refuses an object with a repeated key ("JSON parse error, duplicate
/// key"), so each new key must be compared with all before it. A scan of
/// the members is the cheapest check for the few keys QMP objects have, and
/// allocates nothing; but it makes parsing quadratic, and a client could
/// send 500,000 distinct keys (about 6 MB, inside QEMU's token limits) to
/// stall the loop thread for minutes. Past `linearScanLimit` members the
/// keys go into a hash set instead.
///
/// ```swift
/// var check = DuplicateKeyCheck()
/// check.isNew("a", in: object)   // true: the caller then appends "a"
/// ```
struct DuplicateKeyCheck {
    /// Members scanned linearly; past this count the check hashes. Small
    /// enough that a scan costs less than hashing the key once.
    static let linearScanLimit = 16

    /// The keys so far, once past `linearScanLimit` (an empty set does
    /// not allocate). Not an optional: mutating through `!` copies the set
    /// in unoptimized builds.
    private var hashed = Set<String>()
    private var isHashing = false

    init() {}

    /// True when `key` is not among `object`'s members; it is then
    /// remembered, and the caller must append it to `object`.
    @inline(__always)
    mutating func isNew(_ key: String, in object: JSONObject) -> Bool {
        if !isHashing {
            if object.count < Self.linearScanLimit {
                return !object.members.contains { $0.key == key }
            }
            isHashing = true
            hashed.reserveCapacity(object.count * 2)
            for member in object.members { hashed.insert(member.key) }
        }
        return hashed.insert(key).inserted
    }
}
