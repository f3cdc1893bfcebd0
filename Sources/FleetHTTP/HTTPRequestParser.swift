/// Reads an HTTP/1.x request head from bytes that arrive in pieces.
///
/// It keeps at most `limit` bytes: a head that has not ended by then is
/// `headerTooLarge` (431), whatever follows, so a client cannot make the
/// server hold more than that. Lines end with CRLF (a bare LF is taken
/// too, as RFC 9112 allows a recipient to); the head ends at an empty line.
public struct HTTPRequestParser {
    public enum Outcome: Equatable, Sendable {
        /// The head has not ended yet.
        case needMore
        case complete(HTTPRequestHead)
        /// Past `limit` bytes without the end of the head.
        case headerTooLarge
        /// Not an HTTP/1.x request head; the text says what was wrong.
        case malformed(String)
    }

    public let limit: Int
    private var buffer: [UInt8] = []
    private var finished: Outcome?

    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes the next bytes; once an outcome other than `needMore` is
    /// reached, it stays and later bytes are ignored.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if let finished { return finished }
        let searchFrom = max(0, buffer.count - 3)
        let room = limit - buffer.count
        buffer.append(contentsOf: bytes.prefix(max(0, room) + 1))
        guard let end = Self.endOfHead(in: buffer, from: searchFrom), end <= limit else {
            if buffer.count > limit { return finish(.headerTooLarge) }
            return .needMore
        }
        return finish(Self.parse(buffer[..<end]))
    }

    private mutating func finish(_ outcome: Outcome) -> Outcome {
        finished = outcome
        buffer = []
        return outcome
    }

    /// The index just past the blank line that ends the head.
    static func endOfHead(in bytes: [UInt8], from start: Int) -> Int? {
        let lf = UInt8(ascii: "\n")
        var index = start
        while index < bytes.count {
            if bytes[index] == lf {
                if index + 1 < bytes.count, bytes[index + 1] == lf { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == lf { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    static func parse(_ head: ArraySlice<UInt8>) -> Outcome {
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { return .malformed("empty request") }
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            return .malformed("the request line is not METHOD TARGET VERSION")
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard method.utf8.allSatisfy(isTokenByte) else { return .malformed("bad method") }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .malformed("unsupported version \(version)") }
        guard target.hasPrefix("/") || target == "*" else { return .malformed("the target is not an absolute path") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                return .malformed("a header line has no name")
            }
            let name = line[..<colon]
            // RFC 9112: no whitespace between a field name and its colon.
            guard name.allSatisfy(isTokenByte) else { return .malformed("bad header name") }
            let value = String(decoding: line[line.index(after: colon)...], as: UTF8.self)
                .trimmingCharacters(in: " \t")
            headers.append((String(decoding: name, as: UTF8.self), value))
        }
        return .complete(HTTPRequestHead(method: method, target: target, version: version, headers: headers))
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let drop = Set(set)
        var text = Substring(self)
        while let first = text.first, drop.contains(first) { text = text.dropFirst() }
        while let last = text.last, drop.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
