import QMPServer
import Synchronization

/// Numbers that must be unique across the whole fleet, whichever loop
/// hands them out: session ids (for logs and `query-vms`) and the creation
/// order of VMs (listings sort by it; vCPU thread ids derive from it).
///
/// One instance is shared by every router of a sharded fleet; a router on
/// its own has its own.
public final class FleetCounters: Sendable {
    private let sessions = Atomic<UInt64>(1)
    private let vms = Atomic<Int>(0)
    /// Partial messages held by every session's parser (`parser-bytes-per-fleet`).
    public let parserMemory = ParserMemoryBudget()

    public init() {}

    func nextSessionID() -> UInt64 {
        sessions.add(1, ordering: .relaxed).oldValue
    }

    func nextVMSequence() -> Int {
        vms.add(1, ordering: .relaxed).oldValue
    }

    /// Sets aside `count` consecutive places in creation order; returns the first.
    func reserveVMSequences(_ count: Int) -> Int {
        vms.add(count, ordering: .relaxed).oldValue
    }
}
