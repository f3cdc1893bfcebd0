import Synchronization

/// A count of bytes two loop threads change: the loop that queues output
/// raises it, the loop that sends it lowers it (`CrossLoopWriter`), so the
/// queuing side can hold a client to its output limit without asking the
/// other loop.
public final class SharedByteCount: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    public var value: Int { count.load(ordering: .sequentiallyConsistent) }

    /// Returns the count after adding `bytes`.
    @discardableResult
    public func add(_ bytes: Int) -> Int {
        count.wrappingAdd(bytes, ordering: .sequentiallyConsistent).newValue
    }

    func subtract(_ bytes: Int) {
        guard bytes != 0 else { return }
        count.wrappingSubtract(bytes, ordering: .sequentiallyConsistent)
    }
}
