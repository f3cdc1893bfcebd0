/// The QMP input parser: bytes in, JSON messages (or QEMU's parse errors) out.
///
/// It is QEMU's lexer (`JSONLexer`), streamer (qobject/json-streamer.c) and
/// parser (`JSONTokenParser`) in one value: input may be split at any byte,
/// many messages may come in one read, and newline is not a delimiter. A
/// message is complete when its braces and brackets balance (a scalar at the
/// top level is a message by itself). Errors follow QEMU: a bad byte ends the
/// message with "JSON parse error, stray '...'" and the lexer skips to the
/// next structural or control character; a message past a limit is dropped
/// with the limit's error; each error is one `emit`.
///
/// ```swift
/// var parser = JSONStreamParser()
/// parser.feed(Array(#"{"execute": "stop"}{"exe"#.utf8)) { print($0) }   // one message
/// parser.feed(Array(#"cute": "cont"}"#.utf8)) { print($0) }              // the second
/// ```
public struct JSONStreamParser: Sendable {
    public typealias Output = Result<JSONValue, JSONParseError>

    private let limits: JSONLimits
    private var lexer = JSONLexer()
    /// The text of the current message's tokens, and of the token being lexed.
    private var text: [UInt8] = []
    private var tokens: [JSONToken] = []
    /// Where the token being lexed starts in `text`.
    private var tokenStart = 0
    private var braces = 0
    private var brackets = 0
    /// QEMU's `token_size`: bytes of the message's tokens so far.
    private var tokenBytes = 0

    public init(limits: JSONLimits = .qemu) {
        self.limits = limits
        text.reserveCapacity(256)
        tokens.reserveCapacity(32)
    }

    /// Bytes held for a message that is not complete yet.
    public var bufferedByteCount: Int { text.count }

    /// Drops any partial message (a client reconnected).
    public mutating func reset() {
        lexer.state = .start
        resetMessage()
    }

    public mutating func feed(_ bytes: [UInt8], _ emit: (Output) -> Void) {
        bytes.withUnsafeBytes { feed($0, emit) }
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Output) -> Void) {
        let count = bytes.count
        var i = 0
        while i < count {
            let c = bytes[i]
            switch lexer.step(c) {
            case .consume(let next):
                text.append(c)
                lexer.state = next
                i += 1
                if next == .dqString || next == .sqString {
                    i = appendStringRun(bytes, from: i, quote: next == .dqString ? UInt8(ascii: "\"") : UInt8(ascii: "'"))
                }
            case .emit(let type, let consumed):
                if consumed {
                    text.append(c)
                    i += 1
                }
                lexer.state = .start
                processToken(type, emit)
            case .skip, .stayInRecovery:
                i += 1
            case .error:
                text.append(c)
                i += 1
                let stray = String(decoding: text[tokenStart...], as: UTF8.self)
                lexer.state = .recovery
                finishMessage(.failure(JSONParseError("JSON parse error, stray '\(stray)'")), emit)
            case .resynchronize:
                lexer.state = .start
            }
            // QEMU's lexer bounds a single token too (a huge string).
            if text.count - tokenStart > limits.maxTokenBytes {
                lexer.state = .start
                finishMessage(.failure(JSONParseError("JSON token size limit exceeded")), emit)
            }
        }
    }

    /// Appends the plain bytes of a string (no quote, escape or invalid
    /// byte) in one go: the common case, and the one that makes long strings cheap.
    @inline(__always)
    private mutating func appendStringRun(_ bytes: UnsafeRawBufferPointer, from start: Int, quote: UInt8) -> Int {
        var j = start
        let limit = min(bytes.count, start + max(0, limits.maxTokenBytes + 1 - (text.count - tokenStart)))
        while j < limit {
            let b = bytes[j]
            if b == quote || b == UInt8(ascii: "\\") || b < 0x20 || b > 0xFD { break }
            j += 1
        }
        if j > start { text.append(contentsOf: bytes[start..<j]) }
        return j
    }

    /// json-streamer.c's `json_message_process_token`.
    private mutating func processToken(_ type: JSONLexer.TokenType, _ emit: (Output) -> Void) {
        switch type {
        case .lcurly: braces += 1
        case .rcurly: braces -= 1
        case .lsquare: brackets += 1
        case .rsquare: brackets -= 1
        default: break
        }
        let length = text.count - tokenStart
        if tokenBytes + length + 1 > limits.maxTokenBytes {
            return finishMessage(.failure(JSONParseError("JSON token size limit exceeded")), emit)
        }
        if tokens.count + 1 > limits.maxTokenCount {
            return finishMessage(.failure(JSONParseError("JSON token count limit exceeded")), emit)
        }
        if braces + brackets > limits.maxNesting {
            return finishMessage(.failure(JSONParseError("JSON nesting depth limit exceeded")), emit)
        }
        tokens.append(JSONToken(type: type, start: tokenStart, end: text.count))
        tokenBytes += length
        tokenStart = text.count
        if (braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0 {
            return
        }
        let result = text.withUnsafeBufferPointer { buffer in
            var parser = JSONTokenParser(text: buffer, tokens: tokens)
            return parser.parse()
        }
        finishMessage(result, emit)
    }

    private mutating func finishMessage(_ result: Output, _ emit: (Output) -> Void) {
        resetMessage()
        emit(result)
    }

    private mutating func resetMessage() {
        braces = 0
        brackets = 0
        tokens.removeAll(keepingCapacity: tokens.capacity <= 4096)
        text.removeAll(keepingCapacity: text.capacity <= 1 << 16)
        tokenStart = 0
        tokenBytes = 0
    }
}

/// A token: its type and where its text is in the message buffer.
struct JSONToken: Sendable {
    var type: JSONLexer.TokenType
    var start: Int
    var end: Int
}
