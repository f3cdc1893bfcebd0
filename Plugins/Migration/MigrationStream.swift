/// The wire format of a simulated migration: what one VM sends another.
///
/// A header (`"QFMS"`, then the format version as a big-endian UInt32),
/// then records: a kind byte, a big-endian UInt32 payload length, the
/// payload. A reader refuses a version newer than its own and any record
/// longer than its limit, so a bad peer costs a failed migration, never
/// unbounded memory.
///
/// Version 1 records:
/// - `ram`: UInt64 offset into guest RAM, then that many page bytes (the
///   simulated guest's RAM is zeros; the bytes still travel, paced as QEMU
///   paces them).
/// - `sync`: UInt32 dirty-bitmap pass (MIGRATION_PASS).
/// - `postcopy`: the source switched to postcopy (the target runs now).
/// - `device`: JSON text: `{"run-state": ..., "device-state": {...}}`, the
///   host's save of every migratable plugin.
/// - `end`: the stream is complete.
enum MigrationStream {
    static let magic: [UInt8] = Array("QFMS".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 8
    static let recordHeaderBytes = 5
    /// RAM goes in records of at most this many bytes of pages.
    static let ramChunkBytes = 64 << 10

    enum Kind: UInt8 {
        case ram = 1
        case sync = 2
        case postcopy = 3
        case device = 4
        case end = 5
    }

    static var header: [UInt8] { magic + bigEndian(UInt64(version), bytes: 4) }

    static func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// A record's header; the payload follows.
    static func recordHeader(_ kind: Kind, length: Int) -> [UInt8] {
        [kind.rawValue] + bigEndian(UInt64(length), bytes: 4)
    }

    static func record(_ kind: Kind, _ payload: [UInt8] = []) -> [UInt8] {
        recordHeader(kind, length: payload.count) + payload
    }

    /// One decoded record.
    enum Record: Equatable {
        case ram(offset: UInt64, bytes: Int)
        case sync(pass: UInt32)
        case postcopy
        case device(json: [UInt8])
        case end
    }

    enum DecodeError: Error, Equatable, CustomStringConvertible {
        case badMagic
        case unsupportedVersion(UInt32)
        case unknownKind(UInt8)
        case recordTooLong(Int)
        case malformed(String)

        var description: String {
            switch self {
            case .badMagic: return "not a migration stream"
            case .unsupportedVersion(let v): return "migration stream version \(v) is newer than \(MigrationStream.version)"
            case .unknownKind(let k): return "unknown section type \(k)"
            case .recordTooLong(let n): return "section of \(n) bytes exceeds the limit"
            case .malformed(let what): return "malformed \(what) section"
            }
        }
    }

    /// Reads records from bytes as they arrive, keeping at most one record
    /// (no more than `maximumRecordBytes`) buffered.
    struct Decoder {
        let maximumRecordBytes: Int
        private var buffer: [UInt8] = []
        private var start = 0
        private(set) var sawHeader = false

        init(maximumRecordBytes: Int) { self.maximumRecordBytes = maximumRecordBytes }

        /// Bytes held for an incomplete record.
        var bufferedBytes: Int { buffer.count - start }

        mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> [Record] {
            buffer.append(contentsOf: bytes)
            var records: [Record] = []
            if !sawHeader {
                guard bufferedBytes >= headerBytes else { return [] }
                guard Array(buffer[start..<start + 4]) == magic else { throw .badMagic }
                let version = UInt32(readBigEndian(start + 4, 4))
                guard version >= 1, version <= MigrationStream.version else { throw .unsupportedVersion(version) }
                start += headerBytes
                sawHeader = true
            }
            while bufferedBytes >= recordHeaderBytes {
                let kindByte = buffer[start]
                let length = Int(readBigEndian(start + 1, 4))
                guard let kind = Kind(rawValue: kindByte) else { throw .unknownKind(kindByte) }
                guard length <= maximumRecordBytes else { throw .recordTooLong(length) }
                guard bufferedBytes >= recordHeaderBytes + length else { break }
                let payload = start + recordHeaderBytes
                records.append(try decode(kind, payload, length))
                start = payload + length
            }
            if start > 0 && (start == buffer.count || start >= 1 << 16) {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            return records
        }

        private func readBigEndian(_ at: Int, _ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value = value << 8 | UInt64(buffer[at + i]) }
            return value
        }

        private func decode(_ kind: Kind, _ at: Int, _ length: Int) throws(DecodeError) -> Record {
            switch kind {
            case .ram:
                guard length >= 8 else { throw .malformed("ram") }
                return .ram(offset: readBigEndian(at, 8), bytes: length - 8)
            case .sync:
                guard length == 4 else { throw .malformed("sync") }
                return .sync(pass: UInt32(readBigEndian(at, 4)))
            case .postcopy:
                guard length == 0 else { throw .malformed("postcopy") }
                return .postcopy
            case .device:
                return .device(json: Array(buffer[at..<at + length]))
            case .end:
                guard length == 0 else { throw .malformed("end") }
                return .end
            }
        }
    }
}
