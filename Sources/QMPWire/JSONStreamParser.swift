/// The QMP input parser: bytes in, JSON messages (or QEMU's parse errors) out.
///
/// It is QEMU's lexer (`JSONLexer`), streamer (qobject/json-streamer.c) and
/// parser (`JSONTokenParser`) in one value: input may be split at any byte,
/// many messages may come in one read, and newline is not a delimiter. A
/// message is complete when its braces and brackets balance (a scalar at the
/// top level is a message by itself), or when either count goes negative (a
/// lone `}` is a message, answered "expecting value"). Each error is one
/// `emit`, and parsing goes on, exactly as QEMU answers (see `JSONLexer`
/// for the recovery after a bad byte, `JSONLimits` for the limits).
///
/// ```swift
/// var parser = JSONStreamParser()
/// parser.feed(Array(#"{"execute": "stop"}{"exe"#.utf8)) { print($0) }   // one message
/// parser.feed(Array(#"cute": "cont"}"#.utf8)) { print($0) }              // the second
/// ```
///
/// Complete messages are parsed straight from the caller's buffer
/// (`JSONDirectParser`, one pass, for the small requests clients send).
/// Otherwise each token goes to the token parser the moment the lexer
/// completes it, so a large message is parsed piece by piece as its reads
/// come, and its last byte costs no more than any other: QEMU parses a
/// message's tokens in one step at its end, which for a 6 MB message held
/// a loop thread (and every VM on it) for seconds. No token is kept after
/// it is parsed; the only bytes carried from one feed to the next are those
/// of a token still being lexed (`bufferedByteCount`), never the whitespace
/// between tokens, so a client cannot grow the buffer with blanks.
public struct JSONStreamParser: Sendable {
    public typealias Output = Result<JSONValue, JSONParseError>

    private let limits: JSONLimits
    private var state = JSONLexer.State.start
    /// The string token being lexed has had neither an escape nor a byte
    /// >= 0x80 so far: it is plain ASCII, and the token parser takes its
    /// bytes as they are instead of scanning them again for escapes (for a
    /// 1 MiB string the second scan was a fifth of the request's time).
    private var stringIsPlainASCII = false
    /// The bytes of a token still being lexed, carried over from earlier
    /// feeds; empty otherwise. Offsets are "virtual": below `shift` they
    /// index `text`, from `shift` on they index the current input at
    /// `offset - shift`.
    private var text: [UInt8] = []
    /// `text.count` when the current feed began.
    private var shift = 0
    /// Where the token being lexed starts (virtual).
    private var tokenStart = 0
    private var braces = 0
    private var brackets = 0
    /// QEMU's `token_size`: bytes of the message's tokens so far.
    private var tokenBytes = 0
    /// QEMU's token count: tokens of the message so far.
    private var tokenCount = 0
    /// The pending message's value so far.
    private var parser = JSONTokenParser()

    public init(limits: JSONLimits = .qemu) {
        self.limits = limits
    }

    /// Raw bytes held between feeds: those of a token not complete yet.
    public var bufferedByteCount: Int { text.count }

    /// Memory held for the message that is not complete yet: the bytes of
    /// its unfinished token and about what its partial value holds
    /// (`JSONTokenParser.heldByteCount`). What a fleet-wide budget counts
    /// (`parser-bytes-per-fleet`); 0 between messages.
    public var pendingByteCount: Int { text.count &+ parser.heldByteCount }

    /// Drops the incomplete message, as the token size limit does: lexing
    /// goes on with the next byte. For a caller whose own budget ran out.
    public mutating func abandonMessage() {
        if state.isInToken { state = .start }
        resetMessage()
    }

    /// Drops any partial message and lexer state (a client reconnected).
    public mutating func reset() {
        state = .start
        resetMessage()
    }

    public mutating func feed(_ bytes: [UInt8], _ emit: (Output) -> Void) {
        bytes.withUnsafeBytes { feed($0, emit) }
    }

    public mutating func feed(_ raw: UnsafeRawBufferPointer, _ emit: (Output) -> Void) {
        _ = feedMessages(raw, while: { emit($0); return true })
    }

    /// Feeds `raw` while `emit` returns true: when it returns false the
    /// parser stops right after that message and returns how many bytes it
    /// took; the caller feeds the rest later (nothing of it is kept here).
    /// That is how a session stops reading at a full queue between two
    /// messages of one read, as QEMU's monitor suspends between them.
    public mutating func feedMessages(_ raw: UnsafeRawBufferPointer, while keepGoing: (Output) -> Bool) -> Int {
        feedMessages(raw, while: { output, _ in keepGoing(output) })
    }

    /// `feedMessages(_:while:)`, also giving each message's `arguments`
    /// object as the bytes it arrived in (valid only during the call), when
    /// the message took the one-pass path (`JSONDirectParser`): standard
    /// JSON that any parser reads as the same value. nil otherwise. A
    /// session keeps them for a plugin built for ABI 2, which parses the
    /// client's text itself instead of a text the host writes for it.
    public mutating func feedMessages(_ raw: UnsafeRawBufferPointer,
                                      while keepGoing: (Output, _ arguments: UnsafeRawBufferPointer?) -> Bool) -> Int {
        feed(raw, scanningRequests: false, request: { _ in true }, message: keepGoing)
    }

    /// `feedMessages(_:while:)` for a QMP session: a message that starts
    /// where no other is pending and that `QMPRequestScanner` recognises
    /// (`{"execute": "query-status", "id": 7}`) goes to `request` as it
    /// lies in the buffer, with no `JSONValue` made; every other message,
    /// and every error, to `message` exactly as `feedMessages` gives it.
    /// Either returning false stops the feed after that message.
    public mutating func feedRequests(_ raw: UnsafeRawBufferPointer,
                                      request: (ScannedRequest) -> Bool,
                                      message: (Output, _ arguments: UnsafeRawBufferPointer?) -> Bool) -> Int {
        feed(raw, scanningRequests: true, request: request, message: message)
    }

    @inline(__always)
    private mutating func feed(_ raw: UnsafeRawBufferPointer, scanningRequests: Bool,
                               request: (ScannedRequest) -> Bool,
                               message keepGoing: (Output, _ arguments: UnsafeRawBufferPointer?) -> Bool) -> Int {
        guard let base = raw.baseAddress, raw.count > 0 else { return 0 }
        var stopped = false
        func emit(_ output: Output) { if !keepGoing(output, nil) { stopped = true } }
        let input = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count)
        let n = input.count
        // When a carried token completes mid-feed `text` is emptied but
        // `shift` stays: later tokens of this feed start at or past it, so
        // still map to the input.
        shift = text.count
        var i = 0
        while i < n && !stopped {
            let c = input[i]
            switch state {
            case .start:
                i += 1
                switch c {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if scanningRequests, tokenCount == 0, c == UInt8(ascii: "{"),
                       let scanned = QMPRequestScanner.scan(input, at: i - 1, limits: limits) {
                        i = scanned.end
                        if !request(scanned) { stopped = true }
                        continue
                    }
                    if tokenCount == 0, let (value, end, arguments) = JSONDirectParser.parseMessage(input, at: i - 1, limits: limits) {
                        i = end
                        if !keepGoing(.success(value), arguments.map { UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[$0])) }) { stopped = true }
                        continue
                    }
                    tokenStart = shift + i - 1
                    complete(c == UInt8(ascii: "{") ? .lcurly : .lsquare, input, end: i, emit)
                case UInt8(ascii: "}"): tokenStart = shift + i - 1; complete(.rcurly, input, end: i, emit)
                case UInt8(ascii: "]"): tokenStart = shift + i - 1; complete(.rsquare, input, end: i, emit)
                case UInt8(ascii: ":"): tokenStart = shift + i - 1; complete(.colon, input, end: i, emit)
                case UInt8(ascii: ","): tokenStart = shift + i - 1; complete(.comma, input, end: i, emit)
                case UInt8(ascii: "\""): tokenStart = shift + i - 1; state = .dqString; stringIsPlainASCII = true
                case UInt8(ascii: "'"): tokenStart = shift + i - 1; state = .sqString; stringIsPlainASCII = true
                case UInt8(ascii: "0"): tokenStart = shift + i - 1; state = .zero
                case UInt8(ascii: "-"): tokenStart = shift + i - 1; state = .sign
                default:
                    tokenStart = shift + i - 1
                    if JSONLexer.isDigit(c) {
                        state = .digits
                    } else if JSONLexer.isLowercase(c) {
                        state = .keyword
                    } else {
                        stray(input, end: i, emit)
                    }
                }
            case .recovery:
                if JSONLexer.resynchronizes(c) { state = .start } else { i += 1 }
            case .dqString, .sqString:
                let quote = state == .dqString ? UInt8(ascii: "\"") : UInt8(ascii: "'")
                // Plain bytes in one run.
                let allowance = limits.maxTokenBytes + 1 - (shift + i - tokenStart)
                let stop = allowance < n - i ? i + max(allowance, 0) : n
                i = PlainTextScan.plainRunEnd(input, from: i, to: stop, quote: quote)
                while i < stop, input[i] >= 0x80, input[i] <= 0xFD {
                    stringIsPlainASCII = false
                    i = PlainTextScan.plainRunEnd(input, from: i + 1, to: stop, quote: quote)
                }
                // Stopped at a byte that ends the run, unless at the size limit.
                if i < n && shift + i - tokenStart <= limits.maxTokenBytes {
                    let b = input[i]
                    i += 1
                    if b == quote {
                        complete(.string, input, end: i, emit)
                    } else if b == UInt8(ascii: "\\") {
                        stringIsPlainASCII = false
                        state = state == .dqString ? .dqEscape : .sqEscape
                    } else {
                        stray(input, end: i, emit)
                    }
                }
            case .dqEscape, .sqEscape:
                i += 1
                if JSONLexer.isStringByte(c) {
                    state = state == .dqEscape ? .dqString : .sqString
                } else {
                    stray(input, end: i, emit)
                }
            case .zero:
                if c == UInt8(ascii: ".") { i += 1; state = .mantissa }
                else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1; state = .expE }
                else if JSONLexer.isDigit(c) { i += 1; stray(input, end: i, emit) }
                else { complete(.integer, input, end: i, emit) }
            case .sign:
                i += 1
                if c == UInt8(ascii: "0") { state = .zero }
                else if JSONLexer.isDigit(c) { state = .digits }
                else { stray(input, end: i, emit) }
            case .digits:
                if JSONLexer.isDigit(c) { i = skipRun(input, from: i + 1, JSONLexer.isDigit) }
                else if c == UInt8(ascii: ".") { i += 1; state = .mantissa }
                else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1; state = .expE }
                else { complete(.integer, input, end: i, emit) }
            case .mantissa:
                i += 1
                if JSONLexer.isDigit(c) { state = .mantissaDigits } else { stray(input, end: i, emit) }
            case .mantissaDigits:
                if JSONLexer.isDigit(c) { i += 1 }
                else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1; state = .expE }
                else { complete(.float, input, end: i, emit) }
            case .expE:
                i += 1
                if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { state = .expSign }
                else if JSONLexer.isDigit(c) { state = .expDigits }
                else { stray(input, end: i, emit) }
            case .expSign:
                i += 1
                if JSONLexer.isDigit(c) { state = .expDigits } else { stray(input, end: i, emit) }
            case .expDigits:
                if JSONLexer.isDigit(c) { i += 1 } else { complete(.float, input, end: i, emit) }
            case .keyword:
                if JSONLexer.isLowercase(c) { i = skipRun(input, from: i + 1, JSONLexer.isLowercase) }
                else { complete(.keyword, input, end: i, emit) }
            }
            checkTokenSize(at: i, emit)
        }
        carry(input)
        return i
    }

    /// json-lexer.c bounds a single token too (a huge string or number):
    /// past the limit the message is dropped and lexing restarts at the next byte.
    @inline(__always)
    private mutating func checkTokenSize(at i: Int, _ emit: (Output) -> Void) {
        if state.isInToken && shift + i - tokenStart > limits.maxTokenBytes {
            state = .start
            finishMessage(.failure(JSONParseError("JSON token size limit exceeded")), emit)
        }
    }

    /// Skips bytes that keep the token in its state, stopping where the
    /// token would pass its size limit (then `checkTokenSize` fires).
    @inline(__always)
    private func skipRun(_ input: UnsafeBufferPointer<UInt8>, from start: Int, _ belongs: (UInt8) -> Bool) -> Int {
        let allowance = limits.maxTokenBytes + 1 - (shift + start - tokenStart)
        let stop = allowance < input.count - start ? start + max(allowance, 0) : input.count
        var j = start
        while j < stop && belongs(input[j]) { j += 1 }
        return j
    }

    /// Keeps the bytes of the token being lexed for the next feed, by
    /// copying them out of the caller's buffer.
    private mutating func carry(_ input: UnsafeBufferPointer<UInt8>) {
        guard state.isInToken else {
            if !text.isEmpty { text.removeAll(keepingCapacity: text.capacity <= 1 << 16) }
            return
        }
        if tokenStart >= shift {
            text.removeAll(keepingCapacity: text.capacity <= 1 << 16)
            text.append(contentsOf: UnsafeBufferPointer(rebasing: input[(tokenStart - shift)...]))
            tokenStart = 0
        } else {
            // The token began in an earlier feed: its bytes are `text`.
            text.append(contentsOf: input)
        }
    }

    /// A token ends at input index `end` (exclusive).
    @inline(__always)
    private mutating func complete(_ type: JSONLexer.TokenType, _ input: UnsafeBufferPointer<UInt8>, end: Int, _ emit: (Output) -> Void) {
        state = .start
        if tokenStart >= shift {
            processToken(type, UnsafeBufferPointer(rebasing: input[(tokenStart - shift)..<end]), emit)
            return
        }
        // It began in an earlier feed: make it whole in `text`, parse it
        // from there (moved out, as `processToken` changes `self`), and keep
        // the buffer for the next one.
        var whole: [UInt8] = []
        swap(&whole, &text)
        whole.append(contentsOf: UnsafeBufferPointer(rebasing: input[..<end]))
        whole.withUnsafeBufferPointer { processToken(type, $0, emit) }
        whole.removeAll(keepingCapacity: whole.capacity <= 1 << 16)
        if text.isEmpty { swap(&whole, &text) }
    }

    /// json-lexer.c's JSON_ERROR: the bytes of the bad token, up to and
    /// including the offending byte, are quoted back, and the lexer skips.
    private mutating func stray(_ input: UnsafeBufferPointer<UInt8>, end: Int, _ emit: (Output) -> Void) {
        var bytes: [UInt8] = []
        if tokenStart < shift {
            bytes.append(contentsOf: text[tokenStart...])
            bytes.append(contentsOf: input[..<end])
        } else {
            bytes.append(contentsOf: input[(tokenStart - shift)..<end])
        }
        state = .recovery
        finishMessage(.failure(JSONParseError("JSON parse error, stray '\(ModifiedUTF8.displayString(bytes))'")), emit)
    }

    /// json-streamer.c's `json_message_process_token`, with the parse of
    /// each token at once instead of the whole message's at its end.
    @inline(__always)
    private mutating func processToken(_ type: JSONLexer.TokenType, _ bytes: UnsafeBufferPointer<UInt8>, _ emit: (Output) -> Void) {
        switch type {
        case .lcurly: braces += 1
        case .rcurly: braces -= 1
        case .lsquare: brackets += 1
        case .rsquare: brackets -= 1
        default: break
        }
        if tokenBytes + bytes.count + 1 > limits.maxTokenBytes {
            return finishMessage(.failure(JSONParseError("JSON token size limit exceeded")), emit)
        }
        if tokenCount + 1 > limits.maxTokenCount {
            return finishMessage(.failure(JSONParseError("JSON token count limit exceeded")), emit)
        }
        if braces + brackets > limits.maxNesting {
            return finishMessage(.failure(JSONParseError("JSON nesting depth limit exceeded")), emit)
        }
        tokenCount += 1
        tokenBytes += bytes.count
        parser.stringIsPlainASCII = type == .string && stringIsPlainASCII
        parser.consume(type, bytes)
        if (braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0 {
            return
        }
        finishMessage(parser.finish(), emit)
    }

    @inline(__always)
    private mutating func finishMessage(_ result: Output, _ emit: (Output) -> Void) {
        resetMessage()
        emit(result)
    }

    @inline(__always)
    private mutating func resetMessage() {
        braces = 0
        brackets = 0
        tokenBytes = 0
        tokenCount = 0
        parser.reset()
        if !text.isEmpty { text.removeAll(keepingCapacity: text.capacity <= 1 << 16) }
    }
}
