/// A complete HTTP/1.1 response, serialized in one piece. Every response
/// says `Connection: close`: the listener serves one request per connection,
/// which keeps its state per client to a parser and a timer.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = [("Content-Type", contentType)]
        self.body = body
    }

    public init(status: Int, reason: String, text: String) {
        self.init(status: status, reason: reason, body: Array((text + "\n").utf8))
    }

    public static let notFound = HTTPResponse(status: 404, reason: "Not Found", text: "not found")
    public static let headerTooLarge = HTTPResponse(status: 431, reason: "Request Header Fields Too Large", text: "request header fields too large")
    public static let methodNotAllowed: HTTPResponse = {
        var response = HTTPResponse(status: 405, reason: "Method Not Allowed", text: "only GET and HEAD")
        response.headers.append(("Allow", "GET, HEAD"))
        return response
    }()
    public static let busy = HTTPResponse(status: 503, reason: "Service Unavailable", text: "too many clients")
    public static let noAnswer = HTTPResponse(status: 503, reason: "Service Unavailable", text: "the fleet did not answer in time")

    public static func badRequest(_ why: String) -> HTTPResponse {
        HTTPResponse(status: 400, reason: "Bad Request", text: why)
    }

    /// Status line, headers (with `Content-Length` and `Connection: close`),
    /// and the body unless `headOnly` (a HEAD request).
    public func serialized(headOnly: Bool = false) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(reason)\r\n"
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        text += "Content-Length: \(body.count)\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n"
        var bytes = Array(text.utf8)
        if !headOnly { bytes += body }
        return bytes
    }
}
