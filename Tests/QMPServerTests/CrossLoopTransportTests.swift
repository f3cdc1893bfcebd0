import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif
import QMPServer
import QMPWire
import Testing
import UVLoop

/// Two loops on threads of their own: a session's (the reader) and the one
/// that writes for it, as in a fleet with two shards.
private final class TwoLoops: @unchecked Sendable {
    let reader: EventLoop
    let writer: EventLoop
    private let finished = DispatchSemaphore(value: 0)

    init() throws {
        reader = try EventLoop()
        writer = try EventLoop()
    }

    func start() {
        for loop in [reader, writer] {
            Thread.detachNewThread { [finished] in
                loop.runUntilStopped()
                finished.signal()
            }
        }
    }

    func stop() {
        let reader = reader, writer = writer
        reader.execute { reader.stop() }
        writer.execute { writer.stop() }
        finished.wait()
        finished.wait()
    }

    /// Runs `body` on the reader loop's thread and returns its result.
    func onReader<T>(_ body: @escaping () -> T) -> T {
        let box = Box(body)
        let done = DispatchSemaphore(value: 0)
        reader.execute {
            box.result = box.body()
            done.signal()
        }
        done.wait()
        return box.result!
    }

    /// Waits (up to 5 s) until `condition`, checked on the reader loop, holds.
    func wait(until condition: @escaping () -> Bool) -> Bool {
        for _ in 0..<500 {
            if onReader(condition) { return true }
            usleep(10_000)
        }
        return false
    }

    private final class Box<T>: @unchecked Sendable {
        let body: () -> T
        var result: T?
        init(_ body: @escaping () -> T) { self.body = body }
    }
}

/// A host whose commands test the transport: `ev` sends an event and then
/// its reply, `big` a reply of `size` bytes, `bye` and `drop` one and then
/// close the session after the flush or at once, `flood` `count` events.
private final class WriterTestHost: SessionHost {
    let greeting = QMPMessage.greeting(version: QEMUVersion(major: 7, minor: 2, micro: 0))
    var sessionLimits: SessionLimits
    let scheduler: any Scheduler
    let parserMemory = ParserMemoryBudget()
    var closed: [UInt64] = []

    init(loop: EventLoop, outputBytes: Int) {
        scheduler = LoopScheduler(loop: loop)
        sessionLimits = SessionLimits(json: .qemu, sessionOutputBytes: outputBytes, pendingCommandsPerSession: 8, fdsPerSession: 4,
                                      sessionOutputStallMilliseconds: 4000, finalFlushMilliseconds: 4000,
                                      negotiationTimeoutMilliseconds: 0, parserBytesPerFleet: 1 << 24, sessionTurnMicroseconds: 1000)
    }

    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        .success(NegotiatedCapabilities(outOfBand: false))
    }

    static func event(_ n: Int64, padding: Int = 0) -> [UInt8] {
        Array(#"{"event": "E", "data": {"n": \#(n), "pad": "\#(String(repeating: "p", count: padding))"}}"#.utf8) + [13, 10]
    }

    func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        let n = call.arguments["n"]?.int64Value ?? 0
        switch call.name {
        case "ev":
            call.session?.deliverEvent(Self.event(n))
            complete(.success(["n": .int(n)]))
        case "big", "bye", "drop":
            complete(.success(["s": .string(String(repeating: "b", count: Int(n)))]))
            if call.name == "bye" { call.session?.closeAfterFlush() }
            if call.name == "drop" { call.session?.close() }
        case "flood":
            for i in 0..<n { call.session?.deliverEvent(Self.event(i, padding: 4096)) }
            complete(.success([:]))
        default:
            complete(.failure(.generic("no such command")))
        }
    }

    func sessionDidClose(_ session: Session) { closed.append(session.id) }
}

/// One client over a `CrossLoopTransport`: its session on the reader loop,
/// its writes made by the writer loop, the client's end a blocking socket.
private final class SplitClient {
    let loops: TwoLoops
    let host: WriterTestHost
    let session: Session
    let transport: CrossLoopTransport
    let client: Int32
    private var buffered: [UInt8] = []

    /// - Parameter smallBuffers: both ends' socket buffers at their least,
    ///   so output queues up in the writer instead of the kernel.
    init(outputBytes: Int = 1 << 20, smallBuffers: Bool = false) throws {
        loops = try TwoLoops()
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        if smallBuffers {
            var size: Int32 = 4096
            setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        client = fds[1]
        host = WriterTestHost(loop: loops.reader, outputBytes: outputBytes)
        // Made before the loops' threads start, so on no other thread.
        let connection = try UnixConnection(loop: loops.reader, fd: fds[0])
        transport = try #require(CrossLoopTransport(connection: connection, readerLoop: loops.reader, writerLoop: loops.writer,
                                                    limits: host.sessionLimits))
        session = Session(id: 7, host: host, transport: transport, makeLogger: { Logger(label: "split") })
        transport.attach(to: session)
        session.start()
        loops.start()
    }

    func finish() {
        loops.stop()
        close(client)
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count)
    }

    /// The next line the client got (without its CR LF), nil at end of file or after 5 s.
    func line() -> String? {
        // Where the search for the line's end goes on: a 1 MiB line read
        // 4 KiB at a time is searched once, not once per read.
        var from = 0
        while true {
            if let newline = buffered[from...].firstIndex(of: 10), newline > 0, buffered[newline - 1] == 13 {
                let text = String(decoding: buffered[..<(newline - 1)], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return text
            }
            from = buffered.count
            guard readMore() > 0 else { return nil }
        }
    }

    func json() -> JSONValue? { line().flatMap { try? JSONValue(parsing: $0) } }

    /// Reads once; returns the bytes read (0 at end of file, -1 on error or timeout).
    @discardableResult
    func readMore(_ limit: Int = 65536) -> Int {
        var chunk = [UInt8](repeating: 0, count: limit)
        let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        if n > 0 { buffered.append(contentsOf: chunk[..<n]) }
        return n
    }

    /// Reads until end of file; returns the bytes read, or nil on a timeout.
    func readToEnd() -> Int? {
        var total = buffered.count
        buffered.removeAll()
        while true {
            let n = readMore()
            if n == 0 { return total }
            if n < 0 { return nil }
            total += n
            buffered.removeAll()
        }
    }

    func negotiate() {
        #expect(json()?["QMP"] != nil)
        write(#"{"execute": "qmp_capabilities"}"#)
        #expect(json() == .object(["return": .object([:])]))
    }
}

@Suite struct CrossLoopTransportTests {
    /// Replies and events take one path to the writer: each event arrives
    /// before the reply of the command that caused it, all in order.
    @Test func repliesAndEventsKeepTheirOrder() throws {
        let client = try SplitClient()
        defer { client.finish() }
        client.negotiate()
        client.write((0..<200).map { #"{"execute": "ev", "arguments": {"n": \#($0)}, "id": \#($0)}"# }.joined())
        for i in 0..<200 {
            let event = client.json()
            #expect(event?["event"] == .string("E") && event?["data"]?["n"] == .int(Int64(i)), "event \(i)")
            let reply = client.json()
            #expect(reply?["return"]?["n"] == .int(Int64(i)) && reply?["id"] == .int(Int64(i)), "reply \(i)")
        }
        // Everything sent: the count the session's limit is checked against is back to 0.
        #expect(client.loops.wait { client.transport.pendingOutputBytes == 0 })
    }

    /// A reply past the output limit stops the session until the writer has
    /// sent it; the writer's drain notice lets it go on, so every reply
    /// arrives and nothing waits for ever.
    @Test func overTheOutputLimitTheSessionWaitsForTheWriter() throws {
        let client = try SplitClient(outputBytes: 64 * 1024, smallBuffers: true)
        defer { client.finish() }
        client.negotiate()
        client.write((0..<5).map { #"{"execute": "big", "arguments": {"n": 262144}, "id": \#($0)}"# }.joined()
                     + #"{"execute": "ev", "arguments": {"n": 9}, "id": "last"}"#)
        for i in 0..<5 {
            let reply = client.json()
            #expect(reply?["id"] == .int(Int64(i)))
            #expect(reply?["return"]?["s"]?.stringValue?.utf8.count == 262_144)
        }
        #expect(client.json()?["data"]?["n"] == .int(9))
        #expect(client.json()?["id"] == .string("last"))
        #expect(client.loops.wait { client.transport.pendingOutputBytes == 0 })
    }

    /// Events past twice the output limit, counted on the session's loop
    /// whatever the writer has sent, disconnect a client that does not read;
    /// its socket then closes (both descriptors).
    @Test func aClientThatDoesNotReadIsDisconnected() throws {
        let client = try SplitClient(outputBytes: 16 * 1024, smallBuffers: true)
        defer { client.finish() }
        client.negotiate()
        client.write(#"{"execute": "flood", "arguments": {"n": 100}}"#)
        #expect(client.loops.wait { client.host.closed == [7] })
        let read = client.readToEnd()
        #expect(read != nil, "the socket never closed")
        #expect((read ?? .max) < 100 * 4096)
    }

    /// `quit`'s way out: the reply, however large, reaches the client in
    /// full, then the connection closes.
    @Test func closeAfterFlushSendsEverythingQueuedFirst() throws {
        let client = try SplitClient(smallBuffers: true)
        defer { client.finish() }
        client.negotiate()
        client.write(#"{"execute": "bye", "arguments": {"n": 1048576}}"#)
        let reply = client.json()
        #expect(reply?["return"]?["s"]?.stringValue?.utf8.count == 1_048_576)
        #expect(client.readToEnd() == 0)
        #expect(client.loops.wait { client.host.closed == [7] })
    }

    /// Closed at once with bytes still queued: the writer sends what the
    /// socket takes, drops the rest and closes its descriptor after the
    /// reader closed its own, so the client sees the end.
    @Test func closeWhileBytesAreQueued() throws {
        let client = try SplitClient(smallBuffers: true)
        defer { client.finish() }
        client.negotiate()
        client.write(#"{"execute": "drop", "arguments": {"n": 1048576}}"#)
        let read = client.readToEnd()
        #expect(read != nil, "the socket never closed")
        #expect((read ?? .max) < 1_048_576)
        #expect(client.loops.wait { client.host.closed == [7] && client.transport.pendingOutputBytes == 0 })
    }

    /// The client leaves in the middle of a large reply: the writer's send
    /// fails, its queue is dropped and counted out, and the session, which
    /// had stopped reading over its limit, hears it drained, reads the end
    /// of file and closes.
    @Test func clientGoneMidWrite() throws {
        let client = try SplitClient(outputBytes: 64 * 1024, smallBuffers: true)
        client.negotiate()
        client.write(#"{"execute": "big", "arguments": {"n": 4194304}}"#)
        #expect(client.readMore(4096) > 0)
        close(client.client)
        #expect(client.loops.wait { client.host.closed == [7] && client.transport.pendingOutputBytes == 0 })
        client.loops.stop()
    }
}
