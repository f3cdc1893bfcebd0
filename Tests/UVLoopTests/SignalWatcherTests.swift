#if canImport(Glibc)
import Glibc
#endif
import Testing
import UVLoop

struct SignalWatcherTests {
    @Test func signalIsDeliveredOnTheLoop() throws {
        let loop = try EventLoop()
        var received = 0
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR2) {
            received += 1
            loop.stop()
        }
        let sender = LoopTimer(loop: loop)
        sender.start(afterMilliseconds: 5) { kill(getpid(), SIGUSR2) }
        #expect(LoopHarness.run(loop))
        #expect(received == 1)
        watcher.close()
    }

    @Test func invalidSignalIsAnError() throws {
        let loop = try EventLoop()
        #expect(throws: UVError.self) { try SignalWatcher(loop: loop, signal: 9999) {} }
    }
}
