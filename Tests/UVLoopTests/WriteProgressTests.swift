#if canImport(Glibc)
import Glibc
#endif
import Testing
import UVLoop

/// A connection judges its peer by progress, not by how much is queued
/// (issue 18), and a final flush ends by its deadline (issue 16).
struct WriteProgressTests {
    /// A plain blocking client socket with a small receive buffer, which
    /// the test reads from (or not) by hand.
    static func rawClient(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        return fd
    }

    static func monotonicMilliseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1000 + UInt64(t.tv_nsec) / 1_000_000
    }

    static let payload = [UInt8](repeating: 0x61, count: 4 << 20)

    @Test func peerThatTakesNothingIsReportedAfterTheStallTime() throws {
        let loop = try EventLoop()
        var stalledAfter: UInt64?
        var start: UInt64 = 0
        let server = try UnixConnectionTests.Server(loop: loop, tag: "stall") { connection in
            connection.writeStallTimeoutMilliseconds = 100
            connection.onWriteStall = {
                stalledAfter = Self.monotonicMilliseconds() - start
                loop.stop()
            }
            start = Self.monotonicMilliseconds()
            connection.write(Self.payload)
        }
        let client = Self.rawClient(server.path)
        defer { close(client) }
        #expect(LoopHarness.run(loop))
        // libuv's timers run on its millisecond clock, read when the loop
        // turn began (before `start` was taken): up to 1 ms early by ours.
        #expect((stalledAfter ?? 0) >= 99)
    }

    /// 4 MiB to a peer that reads 64 KiB at a time with pauses shorter
    /// than the stall time: all of it arrives, and no stall is reported,
    /// though the queue stays far above any fixed bound for most of it.
    @Test func slowButSteadyPeerGetsEverything() throws {
        let loop = try EventLoop()
        var stalled = false
        var drained = false
        let server = try UnixConnectionTests.Server(loop: loop, tag: "steady") { connection in
            connection.writeStallTimeoutMilliseconds = 200
            connection.onWriteStall = { stalled = true; loop.stop() }
            connection.onOutputDrained = { drained = true }
            connection.write(Self.payload)
        }
        let client = Self.rawClient(server.path)
        defer { close(client) }
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        let reader = LoopTimer(loop: loop)
        reader.start(afterMilliseconds: 20, repeatEvery: 20) {
            let n = recv(client, &buffer, buffer.count, 0)
            if n > 0 { received += n }
            if received == Self.payload.count { loop.stop() }
        }
        #expect(LoopHarness.run(loop, deadline: 20_000))
        reader.close()
        #expect(!stalled)
        #expect(received == Self.payload.count)
        #expect(drained)
    }

    /// The soak's half-closing client (issue 16): it sends its requests,
    /// then leaves with the replies unread. The receiver (a session over
    /// its output budget) stopped reading and waits for its queued output
    /// to drain before it goes on; it reads its input to the end
    /// (`onEndOfInput`). The peer's reset ends the input, and the next
    /// write fails and drops the queue. Unless the receiver then hears that
    /// the queue is gone, it waits for a drain that never comes and the
    /// descriptor is kept forever (60 of them after a 60 s soak).
    @Test func peerThatLeavesWithOutputQueuedIsHeardOf() throws {
        let loop = try EventLoop()
        var peerGone: Bool?
        var heard: String?
        let server = try UnixConnectionTests.Server(loop: loop, tag: "gone") { connection in
            connection.onEndOfInput = { gone in peerGone = gone }
            connection.onOutputDrained = {
                heard = "drained, \(connection.pendingWriteBytes) bytes queued"
                loop.stop()
            }
            connection.onClose = {
                heard = "closed"
                loop.stop()
            }
            connection.pauseReading()
            connection.write(Self.payload)
        }
        let client = Self.rawClient(server.path)
        var request = Array(#"{"execute": "query-status"}"#.utf8)
        #expect(send(client, &request, request.count, 0) == request.count)
        let leave = LoopTimer(loop: loop)
        leave.start(afterMilliseconds: 200) { close(client) }
        #expect(LoopHarness.run(loop, deadline: 3_000), "the receiver never heard that its peer left")
        leave.close()
        #expect(peerGone == true)
        #expect(heard == "closed" || heard == "drained, 0 bytes queued")
    }

    @Test func finalFlushEndsByItsDeadline() throws {
        let loop = try EventLoop()
        let server = try UnixConnectionTests.Server(loop: loop, tag: "final") { connection in
            connection.finalFlushTimeoutMilliseconds = 100
            connection.write(Self.payload)
            connection.closeAfterFlush()
        }
        let client = Self.rawClient(server.path)
        defer { close(client) }
        shutdown(client, Int32(SHUT_WR))
        var openAt50 = false
        let check = LoopTimer(loop: loop)
        check.start(afterMilliseconds: 50) {
            openAt50 = server.connections.first?.isClosed == false
            check.start(afterMilliseconds: 250) { loop.stop() }
        }
        #expect(LoopHarness.run(loop))
        check.close()
        #expect(openAt50, "still flushing before the deadline")
        #expect(server.connections.first?.isClosed == true)
    }
}
