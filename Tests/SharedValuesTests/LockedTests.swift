import Dispatch
import SharedValues
import Testing

/// `Locked`: one value, changed from many threads, never loses a change;
/// a copy is the same lock and value; an error leaves the lock free.
@Suite struct LockedTests {
    struct Refused: Error, Equatable {}

    @Test func changesFromManyThreadsAreAllKept() {
        let count = Locked(0)
        let threads = 8, each = 10_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<each { count.withLock { $0 += 1 } }
        }
        #expect(count.withLock { $0 } == threads * each)
    }

    /// No two bodies run at once: each body sees the value it left
    /// unchanged by another thread while it holds the lock.
    @Test func bodiesDoNotOverlap() {
        let state = Locked((inside: 0, overlaps: 0))
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<2_000 {
                state.withLock { state in
                    state.inside += 1
                    if state.inside != 1 { state.overlaps += 1 }
                    for _ in 0..<10 { if state.inside != 1 { state.overlaps += 1 } }
                    state.inside -= 1
                }
            }
        }
        #expect(state.withLock { $0.overlaps } == 0)
    }

    @Test func aCopyIsTheSameValue() {
        let names = Locked<[String]>([])
        let copy = names
        copy.withLock { $0.append("vm-1") }
        #expect(names.withLock { $0 } == ["vm-1"])
    }

    @Test func aThrowingBodyLeavesTheLockFree() {
        let value = Locked(1)
        #expect(throws: Refused.self) {
            try value.withLock { (held: inout Int) throws(Refused) in
                held = 2
                throw Refused()
            }
        }
        // The change before the throw stays, and the lock is taken again.
        #expect(value.withLock { $0 } == 2)
    }

    /// The value is released with the last copy of its lock.
    @Test func theValueGoesWithTheLock() {
        final class Tracked: @unchecked Sendable {
            let gone: Locked<Bool>
            init(_ gone: Locked<Bool>) { self.gone = gone }
            deinit { gone.withLock { $0 = true } }
        }
        let gone = Locked(false)
        do {
            let holder = Locked(Tracked(gone))
            holder.withLock { _ in }
        }
        #expect(gone.withLock { $0 })
    }
}
