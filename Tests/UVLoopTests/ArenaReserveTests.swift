#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SharedValues
import Testing
@testable import UVLoop

/// A loop thread's malloc arena grown once before a burst: writable ahead
/// of the allocations, with nothing more resident.
struct ArenaReserveTests {
    @Test func nothingAskedNothingReserved() {
        #expect(ArenaReserve.grow(bytes: 0) == 0)
        #expect(ArenaReserve.grow(bytes: -5) == 0)
        #expect(ArenaReserve.grow(bytes: ArenaReserve.pieceBytes - 1) == 0)
    }

    @Test func aReserveIsWholePiecesAndAtMostTheMaximum() {
        #expect(ArenaReserve.grow(bytes: 3 * ArenaReserve.pieceBytes + 17) == 3 * ArenaReserve.pieceBytes)
        #expect(ArenaReserve.grow(bytes: Int.max) == ArenaReserve.maximumBytes)
    }

    /// On a thread of its own (an arena of its own, as a shard's loop
    /// thread has): after the reserve, the heap around a small allocation
    /// is writable for at least the bytes reserved, and the process holds
    /// about what it held before.
    @Test func theThreadsHeapIsWritableAheadAndNothingStaysResident() throws {
        // Strict overcommit: glibc makes a freed heap inaccessible again.
        let overcommit = (try? String(contentsOfFile: "/proc/sys/vm/overcommit_memory", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(overcommit != "2")
        let bytes = 16 << 20
        let result = Locked<(reserved: Int, writable: Int, resident: Int)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let reserved = ArenaReserve.grow(bytes: bytes)
            let probe = malloc(64)!
            let writable = Self.writableBytes(from: probe)
            let resident = Self.residentBytes(from: probe, count: min(writable, bytes))
            free(probe)
            result.withLock { $0 = (reserved, writable, resident) }
            done.signal()
        }
        thread.start()
        done.wait()
        let outcome = try #require(result.withLock { $0 })
        #expect(outcome.reserved == bytes)
        #expect(outcome.writable >= bytes - ArenaReserve.pieceBytes)
        // The pieces' headers (a page each, 1 MiB in all) were touched and
        // given back with the rest: what is resident there is the probe's
        // page and whatever else the arena already held.
        #expect(outcome.resident < 512 << 10)
    }

    /// Resident bytes of the `count` bytes from `pointer`'s page (`mincore`).
    static func residentBytes(from pointer: UnsafeMutableRawPointer, count: Int) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: pointer) & ~UInt(page - 1)
        let pages = count / page
        guard pages > 0, let base = UnsafeMutableRawPointer(bitPattern: start) else { return 0 }
        var vector = [UInt8](repeating: 0, count: pages)
        guard mincore(base, pages * page, &vector) == 0 else { return 0 }
        return vector.reduce(0) { $0 + Int($1 & 1) } * page
    }

    /// How far the read-write mapping that holds `pointer` reaches past it
    /// (`/proc/self/maps`).
    static func writableBytes(from pointer: UnsafeMutableRawPointer) -> Int {
        let address = UInt(bitPattern: pointer)
        guard let text = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start <= address, address < end else { continue }
            return fields[1].hasPrefix("rw") ? Int(end - address) : 0
        }
        return 0
    }
}
