#if canImport(Glibc)
import Glibc
#endif
import SharedValues
import Testing
import UVLoop

/// `PoolShare`: one VM's jobs that take long (a filesystem that hangs)
/// hold at most its share of the pool; another VM's job still runs.
struct PoolShareTests {
    /// Jobs that wait until released, counting how many run at once.
    final class Gate: Sendable {
        let released = Locked(false)
        let running = Locked(0)
        let most = Locked(0)

        func job() {
            running.withLock { $0 += 1 }
            let now = running.withLock { $0 }
            most.withLock { $0 = max($0, now) }
            while !released.withLock({ $0 }) { usleep(1000) }
            running.withLock { $0 -= 1 }
        }
    }

    @Test func oneSharesStuckJobsLeaveThePoolToAnother() throws {
        let loop = try EventLoop()
        let gate = Gate()
        let slow = PoolShare(loop: loop, limit: 2)
        let other = PoolShare(loop: loop, limit: 2)
        var finished: [Int] = []
        for index in 0..<6 {
            slow.offload({ gate.job() }, then: { finished.append(index) })
        }
        #expect(slow.running == 2 && slow.waitingCount == 4)
        var otherDone = false
        other.offload({}, then: {
            otherDone = true
            gate.released.withLock { $0 = true }
        })
        let poll = LoopTimer(loop: loop)
        poll.start(afterMilliseconds: 5, repeatEvery: 5) {
            if finished.count == 6 { loop.stop() }
        }
        #expect(LoopHarness.run(loop))
        #expect(otherDone)
        #expect(gate.most.withLock { $0 } == 2)
        #expect(finished.sorted() == Array(0..<6))
    }
}
