import Foundation

/// A minimal blocking QMP client over a unix socket, for load generation:
/// no event loop, no JSON parsing on the hot path (replies are counted by
/// line), so the client costs as little as the machine allows.
/// Each client is used by one thread at a time (handed over, never shared).
final class BlockingClient: @unchecked Sendable {
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var pending: [UInt8] = []

    init(path: String, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A server binds (the file appears) before it listens; on a loaded
        // machine QEMU can be descheduled in between, so a refused connect
        // is retried until the server listens or `timeoutSeconds` pass.
        let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds))
        var rc: Int32
        repeat {
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc != 0 && errno == ECONNREFUSED && Date() < deadline { usleep(1000) } else { break }
        } while true
        guard rc == 0 else {
            close(fd)
            throw BenchError("connect \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchError("send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads one line (through `\n`).
    func readLine() throws -> [UInt8] {
        while true {
            if let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[...nl])
                pending.removeFirst(nl + 1)
                return line
            }
            try readMore()
        }
    }

    private func readMore() throws {
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { throw BenchError("read: \(n == 0 ? "closed" : String(cString: strerror(errno)))") }
        pending.append(contentsOf: buffer[0..<n])
    }

    /// Reads and drops `count` replies (lines that are not events), and
    /// returns their bytes. Nothing is copied and the buffer is compacted
    /// once per read, not per line: 1,000 pipelined 1.5 KB replies would
    /// otherwise cost the client a quadratic `removeFirst` (1.5 GB of
    /// moves), and measure the client instead of the fleet.
    @discardableResult
    func skipReplies(_ count: Int) throws -> Int {
        var replies = 0
        var bytes = 0
        while replies < count {
            var start = 0
            pending.withUnsafeBufferPointer { all in
                while replies < count, let nl = all[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    if !all[start...nl].starts(with: Self.eventPrefix) {
                        replies += 1
                        bytes += nl + 1 - start
                    }
                    start = nl + 1
                }
            }
            pending.removeFirst(start)
            if replies < count { try readMore() }
        }
        return bytes
    }

    /// Reads `count` replies (lines that are not events) and counts the
    /// errors among them, keeping the first one's text; the buffer is
    /// compacted once per read, as in `skipReplies`.
    func collectReplies(_ count: Int) throws -> (errors: Int, firstError: String?) {
        var replies = 0
        var errors = 0
        var firstError: String?
        while replies < count {
            var start = 0
            pending.withUnsafeBufferPointer { all in
                while replies < count, let nl = all[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    let line = all[start...nl]
                    if !line.starts(with: Self.eventPrefix) {
                        replies += 1
                        if line.starts(with: Self.errorPrefix) {
                            errors += 1
                            if firstError == nil { firstError = String(decoding: line, as: UTF8.self) }
                        }
                    }
                    start = nl + 1
                }
            }
            pending.removeFirst(start)
            if replies < count { try readMore() }
        }
        return (errors, firstError)
    }

    private static let errorPrefix = Array(#"{"error""#.utf8)

    /// Reads lines until one that is not an event; returns it.
    func readReply() throws -> [UInt8] {
        while true {
            let line = try readLine()
            if !line.starts(with: Array(#"{"timestamp""#.utf8)) { return line }
        }
    }

    /// Greeting, then capabilities negotiation.
    func negotiate() throws {
        _ = try readLine()
        try send(Self.capabilitiesRequest)
        _ = try readReply()
    }

    /// Capabilities negotiation and one request in a single write, without
    /// waiting for the greeting (a QMP server reads what was sent once it
    /// has greeted, QEMU included); returns the request's reply. One round
    /// trip per VM instead of three: the density check then measures the
    /// fleet's accept and answer, not the checker's wake-ups.
    @discardableResult
    func negotiateAndAsk(_ request: [UInt8]) throws -> [UInt8] {
        try send(Self.capabilitiesRequest + request)
        let greeting = try readLine()
        guard greeting.starts(with: Array(#"{"QMP""#.utf8)) else { throw BenchError("no greeting: \(String(decoding: greeting, as: UTF8.self))") }
        _ = try readReply()
        let reply = try readReply()
        guard reply.starts(with: Array(#"{"return""#.utf8)) else { throw BenchError("not an answer: \(String(decoding: reply, as: UTF8.self))") }
        return reply
    }

    /// One non-blocking read; returns how many complete lines arrived that
    /// are events. No line is copied out: the fan-out scenario's thousand
    /// clients run on one thread, and the generator must cost less than the
    /// fleet it measures.
    func countArrivedEvents() -> Int {
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if n > 0 { pending.append(contentsOf: buffer[0..<n]) }
        var events = 0
        var start = 0
        while let nl = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if pending[start...nl].starts(with: Self.eventPrefix) { events += 1 }
            start = nl + 1
        }
        if start > 0 { pending.removeFirst(start) }
        return events
    }

    private static let eventPrefix = Array(#"{"timestamp""#.utf8)
    private static let capabilitiesRequest = Array(#"{"execute": "qmp_capabilities"}"#.utf8) + [10]

    /// Non-blocking reads of whatever is there; returns complete lines.
    func drainAvailable() -> [[UInt8]] {
        var lines: [[UInt8]] = []
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
        }
        while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(Array(pending[...nl]))
            pending.removeFirst(nl + 1)
        }
        return lines
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
