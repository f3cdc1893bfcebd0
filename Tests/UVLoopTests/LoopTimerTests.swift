import Testing
import UVLoop

struct LoopTimerTests {
    @Test func oneShotTimerFiresOnceAfterItsDelay() throws {
        let loop = try EventLoop()
        let start = loop.nowMilliseconds
        var firedAt: [UInt64] = []
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 30) { firedAt.append(loop.nowMilliseconds) }
        let stopper = LoopTimer(loop: loop)
        stopper.start(afterMilliseconds: 120) { loop.stop() }
        #expect(LoopHarness.run(loop))
        #expect(firedAt.count == 1)
        #expect((firedAt.first ?? 0) >= start + 30)
    }

    @Test func repeatingTimerRepeatsUntilStopped() throws {
        let loop = try EventLoop()
        var ticks = 0
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 5, repeatEvery: 5) {
            ticks += 1
            if ticks == 3 { timer.stop() }
        }
        let stopper = LoopTimer(loop: loop)
        stopper.start(afterMilliseconds: 100) { loop.stop() }
        #expect(LoopHarness.run(loop))
        #expect(ticks == 3)
    }

    @Test func closedTimerNeverFires() throws {
        let loop = try EventLoop()
        var fired = false
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 5) { fired = true }
        timer.close()
        timer.start(afterMilliseconds: 5) { fired = true }
        let stopper = LoopTimer(loop: loop)
        stopper.start(afterMilliseconds: 40) { loop.stop() }
        #expect(LoopHarness.run(loop))
        #expect(!fired)
    }

    @Test func loopReturnsWhenNoActiveHandleIsLeft() throws {
        let loop = try EventLoop()
        var fired = 0
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 5) { fired += 1 }
        // No stop(): run() returns once the one-shot timer has fired.
        loop.run()
        #expect(fired == 1)
    }
}
