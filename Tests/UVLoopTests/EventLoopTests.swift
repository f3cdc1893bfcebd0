#if canImport(Glibc)
import Glibc
#endif
import SharedValues
import Testing
import UVLoop

struct EventLoopTests {
    /// Shared with other threads; the test reads it on the loop thread.
    final class Record: Sendable {
        let values = Locked<[Int]>([])
        let threads = Locked<[pthread_t]>([])
        func append(_ value: Int) { values.withLock { $0.append(value) } }
        func noteThread() { threads.withLock { $0.append(pthread_self()) } }
        var snapshot: [Int] { values.withLock { $0 } }
    }

    /// Starts a POSIX thread running `body` and returns at once.
    static func spawn(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, context)
        pthread_detach(thread)
    }

    @Test func executeFromAnotherThreadRunsOnTheLoopInOrder() throws {
        let loop = try EventLoop()
        let record = Record()
        let loopThread = pthread_self()
        var onLoopThread = true
        // A repeating timer keeps the loop alive while the other thread works.
        let keepAlive = LoopTimer(loop: loop)
        keepAlive.start(afterMilliseconds: 1000, repeatEvery: 1000) {}
        Self.spawn {
            for i in 0..<100 {
                loop.execute { record.append(i) }
            }
            loop.execute { record.noteThread() }
        }
        let poll = LoopTimer(loop: loop)
        poll.start(afterMilliseconds: 2, repeatEvery: 2) {
            if let thread = record.threads.withLock({ $0.first }) {
                onLoopThread = pthread_equal(thread, loopThread) != 0
                loop.stop()
            }
        }
        #expect(LoopHarness.run(loop))
        #expect(record.snapshot == Array(0..<100))
        #expect(onLoopThread)
    }

    @Test func offloadRunsOnThePoolThenCompletesOnTheLoop() throws {
        let loop = try EventLoop()
        let record = Record()
        let loopThread = pthread_self()
        var completedOnLoop = false
        loop.offload({
            record.noteThread()
            record.append(1)
        }, then: {
            completedOnLoop = pthread_equal(pthread_self(), loopThread) != 0
            record.append(2)
            loop.stop()
        })
        #expect(LoopHarness.run(loop))
        #expect(record.snapshot == [1, 2])
        #expect(completedOnLoop)
        let worker = record.threads.withLock { $0.first }
        #expect(worker.map { pthread_equal($0, loopThread) == 0 } == true)
    }

    @Test func stopClosesConnectionsAndListenersThroughTheirOwners() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("stopall")
        var accepted: UnixConnection?
        let listener = try UnixListener(loop: loop, path: path) { accepted = $0 }
        let client = try UnixConnection.connect(loop: loop, path: path)
        let poll = LoopTimer(loop: loop)
        poll.start(afterMilliseconds: 2, repeatEvery: 2) { if accepted != nil { loop.stop() } }
        #expect(LoopHarness.run(loop))
        // stop() closed everything: the fds are closed and the socket file is gone.
        #expect(client.isClosed)
        #expect(accepted?.isClosed == true)
        #expect(!LoopHarness.exists(path))
        _ = listener
        // Work handed in after stop() is dropped, not run on a closed handle.
        loop.execute { Issue.record("ran after stop") }
    }

    @Test func nowAdvancesWithTheClock() throws {
        let loop = try EventLoop()
        let before = loop.nowMilliseconds
        usleep(20_000)
        #expect(loop.nowMilliseconds >= before + 20)
    }
}
