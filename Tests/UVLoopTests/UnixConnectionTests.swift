#if canImport(Glibc)
import Glibc
#endif
import Testing
import UVLoop

struct UnixConnectionTests {
    /// A listener at a fresh path whose accepted connections go to `accepted`.
    final class Server {
        let path: String
        var connections: [UnixConnection] = []
        var listener: UnixListener?
        init(loop: EventLoop, tag: String, onAccept: @escaping (UnixConnection) -> Void = { _ in }) throws {
            path = LoopHarness.socketPath(tag)
            listener = try UnixListener(loop: loop, path: path) { [unowned(unsafe) self] connection in
                self.connections.append(connection)
                onAccept(connection)
            }
        }
    }

    /// A listener that never accepts, its backlog full (a proxied VM's
    /// upstream QEMU that hangs): connect fails at once with EAGAIN, which
    /// the proxy retries on a timer, instead of waiting on the loop thread.
    @Test func connectToAFullBacklogFailsAtOnce() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("fullbacklog")
        let listener = UnixListenerTests.rawSocket(at: path, listening: true)
        defer { close(listener); unlink(path) }
        var waiting: [Int32] = []
        defer { for fd in waiting { close(fd) } }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        while waiting.count < 1000 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc != 0 {
                close(fd)
                break
            }
            waiting.append(fd)
        }
        #expect(waiting.count < 1000, "the backlog never filled")
        let started = loop.nowMilliseconds
        #expect(throws: UVError.self) { _ = try UnixConnection.connect(loop: loop, path: path) }
        #expect(loop.nowMilliseconds - started < 1000)
    }

    @Test func echoWithDataSplitAcrossWrites() throws {
        let loop = try EventLoop()
        let server = try Server(loop: loop, tag: "echo") { connection in
            connection.onBytes = { connection.write(Array($0)) }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        let message = Array(#"{"execute": "qmp_capabilities"}"#.utf8) + [13, 10]
        var received: [UInt8] = []
        client.onBytes = { bytes in
            received += bytes
            if received.count >= message.count { loop.stop() }
        }
        // One message in three writes, one of them a single byte.
        client.write(Array(message[0..<5]))
        client.write([message[5]])
        client.write(Array(message[6...]))
        #expect(LoopHarness.run(loop))
        #expect(received == message)
    }

    @Test func largeWritesArriveWholeAndInOrder() throws {
        let loop = try EventLoop()
        var collected: [UInt8] = []
        let total = 3 * 1024 * 1024 + 7
        let server = try Server(loop: loop, tag: "large") { connection in
            connection.onBytes = { bytes in
                collected += bytes
                if collected.count == total { loop.stop() }
            }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        let payload = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        var offset = 0
        for size in [1, 1000, 65536, 1 << 20, 5, total] where offset < total {
            let end = min(total, offset + size)
            client.write(Array(payload[offset..<end]))
            offset = end
        }
        #expect(client.pendingWriteBytes > 0)
        #expect(LoopHarness.run(loop))
        #expect(collected == payload)
        #expect(client.pendingWriteBytes == 0)
    }

    /// A turn's writes leave gathered at its end: more of them than one
    /// `sendmsg` gathers, past the deferral limit, with descriptors riding
    /// in the middle, arrive whole and in order, the descriptors no later
    /// than their bytes.
    @Test func manySmallWritesOfOneTurnArriveInOrder() throws {
        let loop = try EventLoop()
        var collected: [UInt8] = []
        var descriptorsAt: [Int] = []
        let lines = (0..<5000).map { Array("{\"return\": \($0)}\r\n".utf8) }
        let total = lines.reduce(0) { $0 + $1.count }
        let server = try Server(loop: loop, tag: "gather") { connection in
            connection.onFileDescriptors = { fds in
                descriptorsAt.append(collected.count)
                for fd in fds { close(fd) }
            }
            connection.onBytes = { bytes in
                collected += bytes
                if collected.count == total { loop.stop() }
            }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        defer { close(pipeEnds[0]); close(pipeEnds[1]) }
        var offset = 0
        for (index, line) in lines.enumerated() {
            if index == 100 {
                client.write(line, fileDescriptors: [pipeEnds[0]])
                #expect(descriptorsAt.isEmpty)
                // The descriptors left at once, with what was queued before them.
                #expect(client.pendingWriteBytes == 0)
                descriptorsAt.insert(offset, at: 0)
            } else {
                client.write(line)
            }
            offset += line.count
        }
        #expect(client.pendingWriteBytes > 0)
        #expect(client.pendingWriteBytes < total)
        #expect(LoopHarness.run(loop))
        #expect(collected == Array(lines.joined()))
        // Descriptors come with the read that reaches their first byte
        // (the kernel may merge earlier bytes into that read), never later.
        #expect(descriptorsAt.count == 2)
        #expect(descriptorsAt[1] <= descriptorsAt[0])
        #expect(client.pendingWriteBytes == 0)
    }

    /// An event written with `writeShared` (one array, many connections,
    /// copied once into the loop's buffer) reaches every connection in
    /// order with its other writes: a reply between two events, an event
    /// too large for the loop's buffer, a connection that got only the
    /// second event.
    @Test func sharedEventsArriveInOrderWithOtherWrites() throws {
        let loop = try EventLoop()
        let server = try Server(loop: loop, tag: "shared")
        let first = Array("{\"event\": \"STOP\"}\r\n".utf8)
        let reply = Array("{\"return\": {}}\r\n".utf8)
        let second = Array("{\"event\": \"RESUME\"}\r\n".utf8)
        let big = [UInt8](repeating: 0x62, count: 300 * 1024)
        let expected = [first + second + big, first + reply + second + big, second + big]
        let total = expected.reduce(0) { $0 + $1.count }
        var received = [[UInt8]](repeating: [], count: expected.count)
        var receivedBytes = 0
        var clients: [UnixConnection] = []
        for index in expected.indices {
            let client = try UnixConnection.connect(loop: loop, path: server.path)
            client.onBytes = { bytes in
                received[index] += bytes
                receivedBytes += bytes.count
                if receivedBytes == total { loop.stop() }
            }
            clients.append(client)
        }
        var pendingAfterWrites: [Int] = []
        let driver = LoopTimer(loop: loop)
        driver.start(afterMilliseconds: 1, repeatEvery: 1) {
            guard server.connections.count == expected.count else { return }
            driver.stop()
            let peers = server.connections
            for peer in peers.dropLast() { peer.writeShared(first) }
            peers[1].write(reply)
            for peer in peers { peer.writeShared(second) }
            pendingAfterWrites = peers.map(\.pendingWriteBytes)
            for peer in peers { peer.writeShared(big) }
        }
        #expect(LoopHarness.run(loop))
        // Held until the turn's end, and counted as queued meanwhile.
        #expect(pendingAfterWrites == [first.count + second.count, first.count + reply.count + second.count, second.count])
        // Accepted in any order: each client got one connection's bytes whole.
        #expect(Set(received) == Set(expected))
        #expect(server.connections.allSatisfy { $0.pendingWriteBytes == 0 })
        for client in clients { client.close() }
    }

    /// A shared event the socket does not take whole waits in the
    /// connection's own queue (a copy of what is left), so the loop's buffer
    /// can empty at the turn's end; everything arrives once the peer reads.
    @Test func sharedEventsTheSocketDoesNotTakeWaitInTheQueue() throws {
        let loop = try EventLoop()
        let server = try Server(loop: loop, tag: "shared-full")
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.pauseReading()
        let events = (0..<64).map { [UInt8](repeating: UInt8($0), count: 16 * 1024) }
        let total = events.reduce(0) { $0 + $1.count }
        var collected: [UInt8] = []
        client.onBytes = { bytes in
            collected += bytes
            if collected.count == total { loop.stop() }
        }
        var next = 0
        var queuedAtEnd = 0
        let driver = LoopTimer(loop: loop)
        driver.start(afterMilliseconds: 1, repeatEvery: 1) {
            guard let peer = server.connections.first else { return }
            // Two events a turn: consecutive ones make one range.
            for _ in 0..<2 where next < events.count {
                peer.writeShared(events[next])
                next += 1
            }
            guard next == events.count else { return }
            driver.stop()
            queuedAtEnd = peer.pendingWriteBytes
            client.resumeReading()
        }
        #expect(LoopHarness.run(loop))
        #expect(queuedAtEnd > 0)
        #expect(collected == Array(events.joined()))
        #expect(server.connections.first?.pendingWriteBytes == 0)
        client.close()
    }

    /// The replies to what one read brought leave at the end of that read,
    /// not at the turn's end: by the next read of the same wake-up they
    /// have been sent. (Our `recvmsg` of a request wakes the client blocked
    /// on its reply; sent at once, the reply is there when it looks.)
    @Test func aReadsRepliesLeaveBeforeTheNextRead() throws {
        let loop = try EventLoop()
        var pendingAtEachRead: [Int] = []
        var received = 0
        // One read fills the buffer, the second takes the rest: both in one
        // readiness callback, one turn.
        let total = UnixConnection.readChunk + 100
        let server = try Server(loop: loop, tag: "readflush") { connection in
            connection.onBytes = { bytes in
                pendingAtEachRead.append(connection.pendingWriteBytes)
                received += bytes.count
                connection.write(Array("reply\n".utf8))
            }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        var replies: [UInt8] = []
        client.onBytes = { bytes in
            replies += bytes
            if replies.count == 12 { loop.stop() }
        }
        client.write([UInt8](repeating: 0x20, count: total))
        #expect(LoopHarness.run(loop))
        #expect(received == total)
        #expect(pendingAtEachRead == [0, 0])
        #expect(String(decoding: replies, as: UTF8.self) == "reply\nreply\n")
    }

    @Test func passedPipeDescriptorWorksOnTheReceivingSide() throws {
        let loop = try EventLoop()
        var order: [String] = []
        var passed: [Int32] = []
        var text = ""
        let server = try Server(loop: loop, tag: "fds") { connection in
            connection.onFileDescriptors = { fds in
                order.append("fds")
                passed += fds
            }
            connection.onBytes = { bytes in
                order.append("bytes")
                text += String(decoding: bytes, as: UTF8.self)
                loop.stop()
            }
        }
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.write(Array(#"{"execute": "getfd", "arguments": {"fdname": "x"}}"#.utf8), fileDescriptors: [pipeEnds[1]])
        // The sender keeps its own descriptor.
        close(pipeEnds[1])
        #expect(LoopHarness.run(loop))
        #expect(order == ["fds", "bytes"])
        #expect(text.contains("getfd"))
        try #require(passed.count == 1)
        let received = passed[0]
        #expect(fcntl(received, F_GETFD) & FD_CLOEXEC != 0)
        // Bytes written into the received write end come out of our read end.
        #expect(write(received, "ping", 4) == 4)
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(read(pipeEnds[0], &buffer, 4) == 4)
        #expect(buffer == Array("ping".utf8))
        close(received)
        close(pipeEnds[0])
    }

    @Test func descriptorsQueuedBehindOutputKeepTheirPlace() throws {
        let loop = try EventLoop()
        let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
        var bytesBeforeDescriptor: Int?
        var total = 0
        var passed: [Int32] = []
        var last: UInt8?
        var onlyChunkBytesBefore = true
        let server = try Server(loop: loop, tag: "fdorder") { connection in
            connection.onFileDescriptors = { fds in
                passed += fds
                bytesBeforeDescriptor = total
            }
            connection.onBytes = { bytes in
                total += bytes.count
                last = bytes.last
                onlyChunkBytesBefore = onlyChunkBytesBefore && bytes.dropLast(total == chunk.count + 1 ? 1 : 0).allSatisfy { $0 == 0x61 }
                if total == chunk.count + 1 { loop.stop() }
            }
        }
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.write(chunk)
        #expect(client.pendingWriteBytes > 0)
        client.write([0x7A], fileDescriptors: [pipeEnds[0]])
        close(pipeEnds[0])
        #expect(LoopHarness.run(loop))
        #expect(passed.count == 1)
        // The descriptor's byte came last, after the queued megabyte; the
        // descriptors arrive with the read that reaches their first byte
        // (the kernel may glue earlier bytes into that read).
        #expect(last == 0x7A)
        #expect(onlyChunkBytesBefore)
        #expect((bytesBeforeDescriptor ?? .max) <= chunk.count)
        for fd in passed + [pipeEnds[1]] { close(fd) }
    }

    @Test func descriptorsWithNoReceiverAreClosed() throws {
        let loop = try EventLoop()
        let server = try Server(loop: loop, tag: "fdclose") { connection in
            connection.onBytes = { _ in loop.stop() }
        }
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.write([1], fileDescriptors: [pipeEnds[1]])
        close(pipeEnds[1])
        #expect(LoopHarness.run(loop))
        // Every write end is closed, so the read end sees end of file.
        var byte: UInt8 = 0
        #expect(read(pipeEnds[0], &byte, 1) == 0)
        close(pipeEnds[0])
    }

    @Test func outputQueuesWhileThePeerDoesNotRead() throws {
        let loop = try EventLoop()
        let server = try Server(loop: loop, tag: "slow")
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.pauseReading()
        var queued: [Int] = []
        let writer = LoopTimer(loop: loop)
        writer.start(afterMilliseconds: 1, repeatEvery: 1) {
            guard let peer = server.connections.first else { return }
            peer.write([UInt8](repeating: 0x41, count: 256 * 1024))
            queued.append(peer.pendingWriteBytes)
            if queued.count == 8 { loop.stop() }
        }
        #expect(LoopHarness.run(loop))
        // Once the kernel buffers are full, every write adds to the queue.
        #expect(queued.last ?? 0 > 1024 * 1024)
        #expect(zip(queued.dropFirst(), queued).filter { $0 <= $1 }.isEmpty)
    }

    @Test func peerCloseIsReportedOnce() throws {
        let loop = try EventLoop()
        var closes = 0
        let server = try Server(loop: loop, tag: "peerclose") { connection in
            connection.onClose = {
                closes += 1
                // Writing to a closed peer afterwards is harmless (and no SIGPIPE).
                connection.write(Array("late".utf8))
            }
            connection.onBytes = { _ in connection.write(Array("reply".utf8)) }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.write(Array("bye".utf8))
        client.close()
        client.close()
        let stopper = LoopTimer(loop: loop)
        stopper.start(afterMilliseconds: 50) { loop.stop() }
        #expect(LoopHarness.run(loop))
        #expect(closes == 1)
        #expect(server.connections.first?.isClosed == true)
    }

    @Test func aHalfClosedPeerStillGetsWhatIsWrittenAfterItsEndOfFile() throws {
        let loop = try EventLoop()
        var ended = 0
        var closes = 0
        var clientFD: Int32 = -1
        let server = try Server(loop: loop, tag: "halfclose") { connection in
            connection.onClose = { closes += 1 }
            // Writes leave when the loop's turn ends: the client half-closes
            // once its question has arrived.
            connection.onBytes = { _ in #expect(shutdown(clientFD, Int32(SHUT_WR)) == 0) }
            connection.onEndOfInput = { peerClosed in
                #expect(!peerClosed)
                ended += 1
                // Answered later, as a command that completes on another loop.
                let later = LoopTimer(loop: loop)
                later.start(afterMilliseconds: 10) {
                    later.close()
                    connection.write(Array("answer".utf8))
                    connection.closeAfterFlush()
                }
            }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        var received: [UInt8] = []
        client.onBytes = { received += $0 }
        client.onClose = { loop.stop() }
        clientFD = client.fd
        client.write(Array("question".utf8))
        #expect(LoopHarness.run(loop))
        #expect(String(decoding: received, as: UTF8.self) == "answer")
        #expect(ended == 1)
        #expect(closes == 0)
    }

    @Test func aPeerThatClosedOutrightIsToldApartFromAHalfClose() throws {
        let loop = try EventLoop()
        var ends: [Bool] = []
        var received: [UInt8] = []
        let server = try Server(loop: loop, tag: "fullclose") { connection in
            connection.onBytes = { received += $0 }
            connection.onEndOfInput = { peerClosed in
                ends.append(peerClosed)
                connection.close()
                loop.stop()
            }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.write(Array("bye".utf8))
        client.close()
        #expect(LoopHarness.run(loop))
        #expect(ends == [true])
        #expect(String(decoding: received, as: UTF8.self) == "bye")
    }

    @Test func writingIntoAClosedPeerReportsCloseFromTheLoopNotFromWrite() throws {
        let loop = try EventLoop()
        var closes = 0
        var closedDuringWrite = false
        let server = try Server(loop: loop, tag: "epipe") { connection in
            // The client is already gone; stop reading so only the write sees it.
            connection.pauseReading()
            connection.onClose = {
                closes += 1
                loop.stop()
            }
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        let writer = LoopTimer(loop: loop)
        writer.start(afterMilliseconds: 10) {
            client.close()
            guard let peer = server.connections.first else { return }
            peer.write(Array("into the void".utf8))
            closedDuringWrite = closes > 0
        }
        #expect(LoopHarness.run(loop))
        #expect(!closedDuringWrite)
        #expect(closes == 1)
    }

    @Test func closeAfterFlushDeliversEverythingThenCloses() throws {
        let loop = try EventLoop()
        let payload = [UInt8](repeating: 0x42, count: 2 * 1024 * 1024)
        var received = 0
        var clientSawClose = false
        let server = try Server(loop: loop, tag: "flush") { connection in
            connection.write(payload)
            connection.closeAfterFlush()
            connection.write(Array("dropped".utf8))
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.onBytes = { received += $0.count }
        client.onClose = {
            clientSawClose = true
            loop.stop()
        }
        #expect(LoopHarness.run(loop))
        #expect(received == payload.count)
        #expect(clientSawClose)
        #expect(server.connections.first?.isClosed == true)
    }

    @Test func pausedReadingHoldsDataUntilResumed() throws {
        let loop = try EventLoop()
        var received: [UInt8] = []
        let server = try Server(loop: loop, tag: "pause") { connection in
            connection.write(Array("held".utf8))
        }
        let client = try UnixConnection.connect(loop: loop, path: server.path)
        client.pauseReading()
        client.onBytes = { received += $0 }
        let resume = LoopTimer(loop: loop)
        resume.start(afterMilliseconds: 40) {
            #expect(received.isEmpty)
            client.resumeReading()
        }
        let stopper = LoopTimer(loop: loop)
        stopper.start(afterMilliseconds: 5, repeatEvery: 5) { if received.count == 4 { loop.stop() } }
        #expect(LoopHarness.run(loop))
        #expect(received == Array("held".utf8))
    }

    @Test func connectingToNothingIsAnError() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("nothing")
        let error = #expect(throws: UVError.self) { try UnixConnection.connect(loop: loop, path: path) }
        #expect(error?.code == -ENOENT)
        #expect(error?.description.contains("no such file") == true)
    }
}
