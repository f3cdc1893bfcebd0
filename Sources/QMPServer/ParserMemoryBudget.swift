import Synchronization

/// The bytes all sessions' parsers of one process hold for messages not
/// yet complete, against `parser-bytes-per-fleet`.
///
/// Each parser may hold QEMU's 64 MiB of tokens for one message; with
/// thousands of clients that has no ceiling, so the process counts them
/// together. A session reserves only while it holds a partial message
/// (most reads end on a message boundary and never touch the count), and
/// one that would pass the budget drops that message with QEMU's error for
/// an oversized one. Shared by every loop of the fleet (`FleetCounters`).
public final class ParserMemoryBudget: Sendable {
    private let used = Atomic<Int>(0)

    public init() {}

    /// Bytes reserved now, by all sessions.
    public var bytesInUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` more if the total stays within `limit`.
    func reserve(_ bytes: Int, limit: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            let (total, overflow) = current.addingReportingOverflow(bytes)
            guard !overflow, total <= limit else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: total, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .relaxed)
    }
}
