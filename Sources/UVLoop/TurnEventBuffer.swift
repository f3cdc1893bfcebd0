#if canImport(Glibc)
import Glibc
#endif

/// The events this loop's connections write this turn, each copied in once:
/// a connection with nothing else queued holds only a range of it
/// (`UnixConnection.writeShared`), and its flush sends that range straight
/// from here.
///
/// Why: an event to a thousand clients of one VM used to be a thousand
/// queue appends of the same array (a retain each, a `Deque` slot each, a
/// gathered `sendmsg` built from the queue, a release each once sent). Now
/// each client costs two integers until its `send`, and a `stop`/`cont`
/// pair is one contiguous range per client (docs/performance.md, "One
/// event to 1,000 clients (session 10)").
///
/// The buffer empties when the last range is let go: every holder has a
/// flush waiting for the turn's end (`DeferredFlushes`), so that happens
/// each turn. A connection that cannot send all of its range copies what
/// is left into its own queue first. Loop-confined; its fields are
/// `@exclusivity(unchecked)`: each connection of an event's thousand
/// touches them, one thread does, and no access spans a callback.
final class TurnEventBuffer {
    /// Bytes one turn's events may take here; past it, an event is queued
    /// on each connection as any write is.
    static let byteLimit = 256 * 1024

    /// `byteLimit` bytes, allocated at the first event and never moved:
    /// plain memory, so a send from it counts no references (an array
    /// here was a retain and release per client per turn).
    @exclusivity(unchecked) private var storage: UnsafeMutableRawPointer?
    /// Bytes of `storage` in use.
    @exclusivity(unchecked) private var used = 0
    /// The event copied in last, held so that its array's address cannot
    /// be another array's while we compare against it (`lastAddress`).
    @exclusivity(unchecked) private var last: [UInt8] = []
    @exclusivity(unchecked) private var lastAddress: UnsafeRawPointer?
    @exclusivity(unchecked) private var lastRange: Range<Int> = 0..<0
    /// Connections holding a range.
    @exclusivity(unchecked) private var holders = 0

    deinit { storage?.deallocate() }

    /// Where `event` is in the buffer: copied in unless it is the array
    /// copied in last (the same event for the next client). Nil when the
    /// buffer is full or the event empty. The caller holds the range
    /// (`hold`) or extends one it holds.
    func range(of event: [UInt8]) -> Range<Int>? {
        // Compared, never read through: `last` keeps that array alive.
        let address = event.withUnsafeBytes { $0.baseAddress }
        if address != nil && address == lastAddress && event.count == lastRange.count { return lastRange }
        guard !event.isEmpty else { return nil }
        if holders == 0 { reset() }
        guard used + event.count <= Self.byteLimit else { return nil }
        let storage = self.storage ?? allocate()
        event.withUnsafeBytes { bytes in
            (storage + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        last = event
        lastAddress = address
        lastRange = used..<used + event.count
        used += event.count
        return lastRange
    }

    private func allocate() -> UnsafeMutableRawPointer {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: Self.byteLimit, alignment: 16)
        self.storage = storage
        return storage
    }

    /// A connection holds a range until it has sent it or copied it out.
    func hold() { holders += 1 }

    /// A connection let its range go; the last one empties the buffer.
    func release() {
        holders -= 1
        if holders == 0 { reset() }
    }

    /// One non-blocking `send` of `range` (no SIGPIPE): bytes sent, or -1
    /// with `errno` set.
    func send(_ range: Range<Int>, on fd: Int32) -> Int {
        guard let storage else { return 0 }
        return Glibc.send(fd, storage + range.lowerBound, range.count, Int32(MSG_NOSIGNAL))
    }

    /// The bytes of `range`, for a connection's own queue.
    func copy(_ range: Range<Int>) -> [UInt8] {
        guard let storage else { return [] }
        return Array(UnsafeRawBufferPointer(start: storage + range.lowerBound, count: range.count))
    }

    private func reset() {
        used = 0
        last = []
        lastAddress = nil
        lastRange = 0..<0
    }

    /// The same array (one event's bytes delivered to many clients), not
    /// merely equal bytes: both are alive, so equal addresses mean one buffer.
    static func sameStorage(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && a.count > 0
            && a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
    }
}
