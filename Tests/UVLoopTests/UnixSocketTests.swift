import Foundation
import Testing
@testable import UVLoop

/// Sockets on a real loop, each test bounded by a timer.
@Suite(.serialized)
struct UnixSocketTests {
    static func path(_ tag: String) -> String { "/tmp/uvt-\(getpid())-\(tag).sock" }

    /// Runs the loop until `stop` or 5 s.
    static func run(_ loop: EventLoop) {
        let guardTimer = LoopTimer(loop: loop)
        guardTimer.start(afterMilliseconds: 5000) { loop.stop() }
        loop.run()
    }

    @Test func echoAcrossSplitWritesAndPeerClose() throws {
        let loop = try EventLoop()
        let path = Self.path("echo")
        var server: UnixConnection?
        var received: [UInt8] = []
        var closed = 0
        let listener = try UnixListener(loop: loop, path: path) { connection in
            server = connection
            connection.onBytes = { connection.write(Array($0)) }
            connection.onClose = { closed += 1 }
        }
        var mode = stat()
        stat(path, &mode)
        #expect(mode.st_mode & 0o777 == 0o600)
        let client = try UnixConnection.connect(loop: loop, path: path)
        client.onBytes = { bytes in
            received += bytes
            if received.count == 6 { client.close() }
        }
        client.write(Array("abc".utf8))
        client.write(Array("def".utf8))
        let done = LoopTimer(loop: loop)
        done.start(afterMilliseconds: 10, repeatEvery: 10) { if closed == 1 { listener.close(); loop.stop() } }
        Self.run(loop)
        #expect(String(decoding: received, as: UTF8.self) == "abcdef")
        #expect(closed == 1)
        #expect(access(path, F_OK) != 0)
        _ = server
    }

    @Test func fileDescriptorsArriveWithTheirBytes() throws {
        let loop = try EventLoop()
        let path = Self.path("fds")
        var passed: [Int32] = []
        var text = ""
        let listener = try UnixListener(loop: loop, path: path) { connection in
            connection.onFileDescriptors = { passed += $0 }
            connection.onBytes = { text += String(decoding: $0, as: UTF8.self); loop.stop() }
        }
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let client = try UnixConnection.connect(loop: loop, path: path)
        client.write(Array("getfd".utf8), fileDescriptors: [fds[1]])
        Self.run(loop)
        #expect(text == "getfd")
        #expect(passed.count == 1)
        // The received fd is the pipe's write end: bytes written come out of the read end.
        if let fd = passed.first {
            _ = write(fd, "x", 1)
            var byte: UInt8 = 0
            #expect(read(fds[0], &byte, 1) == 1 && byte == UInt8(ascii: "x"))
            close(fd)
        }
        listener.close()
        client.close()
    }

    @Test func queuedOutputGrowsWhilePeerDoesNotRead() throws {
        let loop = try EventLoop()
        let path = Self.path("slow")
        var server: UnixConnection?
        let listener = try UnixListener(loop: loop, path: path) { connection in
            server = connection
            let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
            for _ in 0..<8 { connection.write(chunk) }
            loop.stop()
        }
        let client = try UnixConnection.connect(loop: loop, path: path)
        client.pauseReading()
        Self.run(loop)
        #expect((server?.pendingWriteBytes ?? 0) > 0)
        server?.close()
        client.close()
        listener.close()
    }

    @Test func pathsThatAreNotStaleSocketsAreRefused() throws {
        let loop = try EventLoop()
        let file = Self.path("file")
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { unlink(file) }
        #expect(throws: UVError.self) { try UnixListener(loop: loop, path: file) { _ in } }
        let live = Self.path("live")
        let first = try UnixListener(loop: loop, path: live) { _ in }
        #expect(throws: UVError.self) { try UnixListener(loop: loop, path: live) { _ in } }
        first.close()
        // A socket file nobody listens on is replaced.
        let stale = Self.path("stale")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = try UnixAddress(path: stale)
        _ = address.withSockaddr { bind(fd, $0, $1) }
        close(fd)
        let replaced = try UnixListener(loop: loop, path: stale) { _ in }
        replaced.close()
    }

    @Test func executeFromAnotherThreadAndOffload() throws {
        let loop = try EventLoop()
        let box = Box()
        Thread.detachNewThread { loop.execute { box.value += 1 } }
        let poll = LoopTimer(loop: loop)
        poll.start(afterMilliseconds: 5, repeatEvery: 5) {
            if box.value == 1 {
                poll.close()
                loop.offload({ box.worker = true }, then: { box.value += 1; loop.stop() })
            }
        }
        Self.run(loop)
        #expect(box.value == 2)
        #expect(box.worker)
    }

    final class Box: @unchecked Sendable {
        var value = 0
        var worker = false
    }
}
