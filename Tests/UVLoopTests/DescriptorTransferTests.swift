#if canImport(Glibc)
import Glibc
#endif
import Testing
import UVLoop

/// `DescriptorTransfer`: a pipe nobody drains holds neither the loop nor a
/// thread of the pool; the transfer completes when drained, or with EAGAIN
/// once nothing moved for its stall time.
struct DescriptorTransferTests {
    init() { signal(SIGPIPE, SIG_IGN) }

    /// A pipe whose write end is blocking (as a client passes it) and full.
    static func fullBlockingPipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0)
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        let chunk = [UInt8](repeating: 0x79, count: 4096)
        while chunk.withUnsafeBytes({ write(fds[1], $0.baseAddress, $0.count) }) > 0 {}
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) & ~O_NONBLOCK)
        return (fds[0], fds[1])
    }

    /// Reads everything there is now from a non-blocking read end.
    static func drain(_ fd: Int32) -> Int {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return total }
            total += n
        }
    }

    @Test func aFullBlockingPipeIsWrittenWhenDrainedWithoutBlockingTheLoop() throws {
        let loop = try EventLoop()
        let (readEnd, writeEnd) = Self.fullBlockingPipe()
        defer { close(readEnd); close(writeEnd) }
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        var result: Int32?
        var drained = 0
        let transfer = loop.writeAll(bytes, to: writeEnd, stallMilliseconds: 2000) { result = $0 }
        #expect(transfer != nil)
        // The client clears O_NONBLOCK again on the description it shares
        // (libuv set it when the watch began): no call may block for that.
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) & ~O_NONBLOCK)
        var ticks = 0
        let reader = LoopTimer(loop: loop)
        reader.start(afterMilliseconds: 50, repeatEvery: 5) {
            ticks += 1
            drained += Self.drain(readEnd)
            if result != nil {
                drained += Self.drain(readEnd)
                loop.stop()
            }
        }
        #expect(LoopHarness.run(loop))
        #expect(result == 0)
        #expect(drained >= bytes.count)
        #expect(ticks > 1)
    }

    @Test func aPipeNobodyDrainsFailsWithEAGAINAfterItsStallTime() throws {
        let loop = try EventLoop()
        let (readEnd, writeEnd) = Self.fullBlockingPipe()
        defer { close(readEnd); close(writeEnd) }
        var result: Int32?
        let started = loop.nowMilliseconds
        var elapsed: UInt64 = 0
        loop.writeAll([1, 2, 3], to: writeEnd, stallMilliseconds: 100) {
            result = $0
            elapsed = loop.nowMilliseconds - started
            loop.stop()
        }
        #expect(LoopHarness.run(loop))
        #expect(result == EAGAIN)
        #expect(elapsed >= 100)
    }

    @Test func manyUndrainedPipesLeaveThePoolFree() throws {
        let loop = try EventLoop()
        let pipes = (0..<8).map { _ in Self.fullBlockingPipe() }
        defer { for p in pipes { close(p.read); close(p.write) } }
        var results: [Int32] = []
        for p in pipes {
            loop.writeAll([UInt8](repeating: 1, count: 100_000), to: p.write, stallMilliseconds: 60_000) { results.append($0) }
        }
        var pooled = false
        loop.offload({}, then: {
            pooled = true
            loop.stop()
        })
        #expect(LoopHarness.run(loop, deadline: 2000))
        #expect(pooled)
        #expect(results.isEmpty)
    }

    @Test func aReadWaitsForThePipesBytesAndStopsAtItsEnd() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 1)
        defer { buffer.deallocate() }
        var result: Int?
        loop.transfer(.read, fd: fds[0], buffer: buffer, stallMilliseconds: 2000) {
            result = $0
            loop.stop()
        }
        let writer = LoopTimer(loop: loop)
        writer.start(afterMilliseconds: 30) {
            _ = Array("QEVM".utf8).withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            close(fds[1])
        }
        #expect(LoopHarness.run(loop))
        #expect(result == 4)
        #expect(Array(buffer.prefix(4)) == Array("QEVM".utf8))
    }

    @Test func aRegularFileGoesToThePool() throws {
        let loop = try EventLoop()
        let path = "/tmp/uvt-\(getpid())-transfer"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd); unlink(path) }
        var result: Int32?
        let transfer = loop.writeAll(Array("hello".utf8), to: fd, stallMilliseconds: 1000) {
            result = $0
            loop.stop()
        }
        #expect(transfer == nil)
        #expect(LoopHarness.run(loop))
        #expect(result == 0)
        var st = stat()
        #expect(fstat(fd, &st) == 0 && st.st_size == 5)
    }

    @Test func aSocketIsWrittenWithoutBlocking() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var result: Int32?
        loop.writeAll([UInt8](repeating: 7, count: 4 << 20), to: fds[0], stallMilliseconds: 100) {
            result = $0
            loop.stop()
        }
        #expect(LoopHarness.run(loop))
        #expect(result == EAGAIN)
    }
}
