/// The order in which QEMU writes an object's members.
///
/// QEMU builds every reply and event as a `QDict`, a hash table of 512
/// buckets whose buckets are lists with the newest entry first, and its JSON
/// writer walks the buckets in order. So what a client sees is not the
/// declaration order: `query-status` answers
/// `{"status": "prelaunch", "singlestep": false, "running": false}` although
/// `StatusInfo` declares `running`, `singlestep`, `status`. Clients that diff
/// transcripts see this, so we write the same order: members sorted by
/// bucket, and within a bucket the later-inserted member first. The insertion
/// order QEMU uses is the QAPI declaration order, which is the order our
/// handlers build their objects in.
public enum QDictOrder {
    /// QEMU's `QDICT_BUCKET_MAX`.
    public static let bucketCount: UInt32 = 512

    /// QEMU's `tdb_hash()` (qobject/qdict.c) reduced to a bucket index.
    /// Byte `i` is shifted by `(i * 5) % 24`, kept as a running shift so
    /// the loop has no division (this hash runs for every member written).
    @inlinable
    public static func bucket<S: Sequence>(ofUTF8 key: S) -> UInt32 where S.Element == UInt8 {
        var length: UInt32 = 0
        var value: UInt32 = 0
        var shift: UInt32 = 0
        @inline(__always) func add(_ byte: UInt8) {
            value &+= UInt32(byte) << shift
            shift &+= 5
            if shift >= 24 { shift &-= 24 }
            length &+= 1
        }
        for byte in key {
            if byte == 0 {
                // QEMU stores NUL as modified UTF-8 "\xC0\x80": hash what it hashes.
                add(0xC0)
                add(0x80)
            } else {
                add(byte)
            }
        }
        value &+= 0x238F_13AF &* length
        return (1_103_515_243 &* value &+ 12345) % bucketCount
    }

    /// The bucket of a key, from its contiguous UTF-8 when it has it (a
    /// native string always does; iterating its `utf8` view costs more
    /// than the hash).
    @inlinable
    public static func bucket(of key: String) -> UInt32 {
        key.utf8.withContiguousStorageIfAvailable { bucket(ofUTF8: $0) } ?? bucket(ofUTF8: key.utf8)
    }

    /// Calls `body` with the member indices of `object` in the order QEMU
    /// would write them, without allocating for objects of QMP's usual size.
    @inlinable
    public static func withWriteOrder<R>(of object: JSONObject, _ body: (UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        let members = object.members
        let count = members.count
        if count > 32 {
            return try writeOrder(of: object).withUnsafeBufferPointer(body)
        }
        return try withUnsafeTemporaryAllocation(of: (bucket: UInt32, index: Int).self, capacity: count) { keys in
            // Insertion sort: bucket ascending, then insertion index descending.
            for k in 0..<count {
                let entry = (bucket: bucket(of: members[k].key), index: k)
                var j = k
                while j > 0 && keys[j - 1].bucket >= entry.bucket {
                    keys[j] = keys[j - 1]
                    j -= 1
                }
                keys[j] = entry
            }
            return try withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { order in
                for k in 0..<count { order[k] = keys[k].index }
                return try body(UnsafeBufferPointer(order))
            }
        }
    }

    /// The member indices of `object` in the order QEMU would write them.
    public static func writeOrder(of object: JSONObject) -> [Int] {
        let members = object.members
        if members.count < 2 { return Array(members.indices) }
        // Sort key: bucket ascending, then insertion index descending.
        return members.indices.map { (bucket: bucket(of: members[$0].key), index: $0) }
            .sorted { $0.bucket != $1.bucket ? $0.bucket < $1.bucket : $0.index > $1.index }
            .map(\.index)
    }
}

extension QDictOrder {
    /// `value` with each object's members in the order QEMU walks its
    /// QDict (the order it writes them in): what a parse of QEMU's own text
    /// of the value gives, without writing that text. A plugin handed the
    /// client's text of its arguments sees them in the order a plugin that
    /// got the host's text saw, and QEMU's input visitor walks.
    public static func inIterationOrder(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return elements.contains(where: \.isContainer) ? .array(elements.map(inIterationOrder)) : value
        case .object(let object):
            guard object.count > 1 || object.members.contains(where: { $0.value.isContainer }) else { return value }
            var ordered = JSONObject(minimumCapacity: object.count)
            withWriteOrder(of: object) { order in
                for index in order {
                    let member = object.members[index]
                    ordered.appendUnchecked(member.key, inIterationOrder(member.value))
                }
            }
            return .object(ordered)
        default:
            return value
        }
    }

    /// The inverse of `writeOrder`: given a value parsed from QEMU's output
    /// (members in the order QEMU wrote them), returns the same value with
    /// members in an insertion order that our writer turns back into exactly
    /// those bytes. Used where we pass QEMU's own replies and events on
    /// (proxy mode), so clients see the upstream's bytes unchanged.
    public static func preservingWrittenOrder(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(preservingWrittenOrder))
        case .object(let object):
            // Within one bucket the writer puts the last-inserted member
            // first, so insert each bucket's members in reverse.
            let members = object.members.map { (key: $0.key, value: preservingWrittenOrder($0.value)) }
            var byBucket: [(bucket: UInt32, members: [(key: String, value: JSONValue)])] = []
            for member in members {
                let b = bucket(of: member.key)
                if let i = byBucket.firstIndex(where: { $0.bucket == b }) {
                    byBucket[i].members.insert(member, at: 0)
                } else {
                    byBucket.append((b, [member]))
                }
            }
            var result = JSONObject(minimumCapacity: members.count)
            for group in byBucket { for m in group.members { result.appendUnchecked(m.key, m.value) } }
            return .object(result)
        default:
            return value
        }
    }
}

extension JSONValue {
    /// An array or an object.
    var isContainer: Bool {
        switch self {
        case .array, .object: return true
        default: return false
        }
    }
}
