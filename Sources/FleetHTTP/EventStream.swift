/// Server-sent events (`text/event-stream`) as the page's `EventSource`
/// reads them: a response head without a length, then one message per
/// event, `event:` and `data:` lines ended by a blank line.
public enum EventStream {
    /// The response head that opens a stream.
    public static let head: [UInt8] = Array((
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        + "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        // How long the browser waits before reconnecting a dropped stream.
        + "retry: 1000\n\n").utf8)

    /// One message; a `data` with line breaks becomes several `data:` lines,
    /// which the browser joins back with `\n`.
    public static func message(event: String, data: String) -> [UInt8] {
        var text = "event: \(event)\n"
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line.hasSuffix("\r") ? line.dropLast() : line)\n"
        }
        text += "\n"
        return Array(text.utf8)
    }

    /// A comment line: keeps idle proxies and the browser from timing out.
    public static let keepAlive: [UInt8] = Array(": keep-alive\n\n".utf8)
}
