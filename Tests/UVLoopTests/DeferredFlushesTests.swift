#if canImport(Glibc)
import Glibc
#endif
import SharedValues
import Synchronization
import Testing
import UVLoop

/// The turn's-end flushes (`DeferredFlushes`), seen through connections.
struct DeferredFlushesTests {
    /// What the peer's thread read.
    final class Received: Sendable {
        let bytes = Locked<[UInt8]>([])
        /// The thread has stopped reading (its descriptor may be closed).
        let done = Atomic<Bool>(false)
    }

    /// Writes made during the prepare phase's flush (a connection whose
    /// queue drained there and whose receiver wrote again at once, as a
    /// session over a small `session-output-bytes` does) leave before the
    /// loop sleeps, not at its next wake-up. Here nothing else would wake
    /// it: the peer is read on another thread, and only the harness's
    /// deadline is left on the loop.
    @Test func aWriteMadeDuringThePreparePhaseFlushDoesNotWaitForTheNextWakeUp() throws {
        let loop = try EventLoop()
        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        let connection = try UnixConnection(loop: loop, fd: ends[0])
        let first = Array("first\n".utf8)
        let second = Array("second\n".utf8)
        var wroteAgain = false
        connection.onOutputDrained = {
            guard !wroteAgain else { return }
            wroteAgain = true
            connection.write(second)
        }
        // A timer's write is flushed in the prepare phase.
        let writer = LoopTimer(loop: loop)
        writer.start(afterMilliseconds: 1) { connection.write(first) }
        let peer = ends[1]
        let expected = first.count + second.count
        let received = Received()
        EventLoopTests.spawn {
            var buffer = [UInt8](repeating: 0, count: 64)
            while received.bytes.withLock({ $0.count }) < expected {
                let n = read(peer, &buffer, buffer.count)
                guard n > 0 else { break }
                received.bytes.withLock { $0 += buffer[0..<n] }
            }
            received.done.store(true, ordering: .releasing)
            loop.execute { loop.stop() }
        }
        // False when the second line waited for the deadline.
        let stoppedByPeer = LoopHarness.run(loop)
        // Its end of file, if the deadline stopped the loop.
        connection.close()
        while !received.done.load(ordering: .acquiring) { usleep(1000) }
        close(peer)
        #expect(stoppedByPeer)
        #expect(received.bytes.withLock { $0 } == first + second)
    }

    /// A connection that closes itself inside its own turn's-end flush (the
    /// last of a `closeAfterFlush` queue left, as after `quit`), with nobody
    /// else holding it, outlives that call: the list holds it unretained,
    /// and its poll handle let it go as it closed.
    @Test func aConnectionClosingInItsOwnFlushOutlivesIt() throws {
        let loop = try EventLoop()
        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        defer { close(ends[1]) }
        weak var closed: UnixConnection?
        let first = LoopTimer(loop: loop)
        first.start(afterMilliseconds: 1) {
            guard let connection = try? UnixConnection(loop: loop, fd: ends[0]) else { return }
            connection.write(Array("bye\n".utf8))
            connection.closeAfterFlush()
            closed = connection
        }
        let later = LoopTimer(loop: loop)
        later.start(afterMilliseconds: 30) { loop.stop() }
        #expect(LoopHarness.run(loop))
        #expect(closed == nil)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(read(ends[1], &buffer, buffer.count) == 4)
        #expect(read(ends[1], &buffer, buffer.count) == 0)
    }

    /// The flush list holds connections unretained: one that closes while
    /// listed, with nobody else holding it, is kept until the flush has
    /// passed it, then let go.
    @Test func aConnectionClosedWhileListedLivesUntilTheFlushPassesIt() throws {
        let loop = try EventLoop()
        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        defer { close(ends[1]) }
        weak var closed: UnixConnection?
        var aliveAfterClose = false
        let first = LoopTimer(loop: loop)
        first.start(afterMilliseconds: 1) {
            do {
                guard let connection = try? UnixConnection(loop: loop, fd: ends[0]) else { return }
                connection.write(Array("listed\n".utf8))
                connection.close()
                closed = connection
            }
            aliveAfterClose = closed != nil
        }
        var aliveLater = true
        let later = LoopTimer(loop: loop)
        later.start(afterMilliseconds: 30) {
            aliveLater = closed != nil
            loop.stop()
        }
        #expect(LoopHarness.run(loop))
        #expect(aliveAfterClose)
        #expect(!aliveLater)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(read(ends[1], &buffer, buffer.count) == 7)
    }
}
