#if canImport(Glibc)
import Glibc
#endif
import FleetHTTP
import Foundation
import Testing
import UVLoop

/// A real listener on 127.0.0.1 (port chosen by the kernel), driven by
/// blocking client sockets with receive timeouts.
@Suite(.serialized) struct HTTPServerTests {
    static let limits = HTTPServerLimits(clients: 2, headerBytes: 256, requestTimeoutMilliseconds: 300, outputBytes: 1 << 16)

    private func withServer(_ body: (HTTPServer) throws -> Void) throws {
        let server = try HTTPServer(address: TCPAddress(parsing: "127.0.0.1:0"), limits: Self.limits) { head, connection in
            switch head.path {
            case "/hello": connection.respond(HTTPResponse(status: 200, reason: "OK", text: "hello"))
            case "/stream":
                connection.startEventStream()
                connection.send(EventStream.message(event: "tick", data: "1\n2"))
            default: connection.respond(.notFound)
            }
        }
        server.start()
        defer { server.stop() }
        try body(server)
    }

    @Test func servesAPathAndRefusesOthersWith404() throws {
        try withServer { server in
            let hello = try Client(server.address).exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(hello.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(hello.hasSuffix("\r\n\r\nhello\n"))
            #expect(hello.contains("Content-Length: 6\r\n"))
            let missing = try Client(server.address).exchange("GET /nope HTTP/1.1\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            let head = try Client(server.address).exchange("HEAD /hello HTTP/1.1\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("\r\n\r\n"))
            let post = try Client(server.address).exchange("POST /hello HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            #expect(post.hasPrefix("HTTP/1.1 405 "))
        }
    }

    @Test func oversizedHeaderGets431AndIsClosed() throws {
        try withServer { server in
            let client = try Client(server.address)
            let reply = try client.exchange("GET /hello HTTP/1.1\r\nX-Big: " + String(repeating: "b", count: 400) + "\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        }
    }

    @Test func slowClientIsClosedAfterTheRequestTimeout() throws {
        try withServer { server in
            let client = try Client(server.address)
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
            let started = Date()
            // Nothing comes but the close (read returns 0), well before the 3 s receive timeout.
            #expect(try client.readAll() == "")
            let waited = Date().timeIntervalSince(started)
            #expect(waited >= 0.2 && waited < 2.5)
        }
    }

    @Test func clientsPastTheLimitGet503() throws {
        try withServer { server in
            let first = try Client(server.address)
            let second = try Client(server.address)
            try first.send("GET /stream HTTP/1.1\r\n\r\n")
            try second.send("GET /stream HTTP/1.1\r\n\r\n")
            #expect(try first.read(until: "data: 2\n\n").contains("event: tick\ndata: 1\ndata: 2\n\n"))
            #expect(try second.read(until: "data: 2\n\n").hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"))
            let third = try Client(server.address).readAll()
            #expect(third.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
            withExtendedLifetime((first, second)) {}
        }
    }
}

/// A blocking TCP client with a 3 s receive timeout.
final class Client {
    let fd: Int32

    init(_ address: TCPAddress) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = address.port.bigEndian
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw UVError(code: -errno, operation: "connect") }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw UVError(code: -errno, operation: "send")
        }
    }

    /// Reads until the peer closes; throws on the receive timeout.
    func readAll() throws -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            guard n > 0 else {
                if errno == ECONNRESET { break }
                throw UVError(code: -errno, operation: "recv")
            }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads until `marker` has arrived.
    func read(until marker: String) throws -> String {
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !text.contains(marker) {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw UVError(code: n == 0 ? -ECONNRESET : -errno, operation: "recv") }
            text += String(decoding: buffer[..<n], as: UTF8.self)
        }
        return text
    }

    func exchange(_ request: String) throws -> String {
        try send(request)
        return try readAll()
    }
}
