/// QEMU's JSON parser (qobject/json-parser.c) turned inside out: it is fed
/// one token at a time, as the lexer completes it, and builds the value as
/// the tokens come, so that a message's parse is spread over the reads that
/// bring it.
///
/// ```swift
/// var parser = JSONTokenParser()
/// parser.consume(.lcurly, bytes)     // for each token of `{"a": 1}` ...
/// parser.finish()                     // .success(["a": 1]) when the message ends
/// ```
///
/// Why not parse the message when it is complete, as QEMU does: QEMU
/// collects a message's tokens and parses them in one step at its last
/// byte. An object of 500,000 distinct keys (about 6 MB, 2M tokens, inside
/// QEMU's limits) then costs one step of seconds in a debug build, and
/// every VM on the loop thread waits for it. Fed token by token, each read
/// costs what its own bytes cost, and no token is kept once it is parsed.
///
/// What it keeps of QEMU's semantics, exactly:
/// - the first error in token order wins (QEMU's parse_error keeps the
///   first), and the tokens after it are ignored; the error is only
///   reported by `finish()`, when the streamer says the message ended;
/// - the texts and where each is raised: "expecting value" for a token that
///   cannot start a value, "key is not a string in object" after the key's
///   whole value was parsed (a key may be `{...}`, and its own errors come
///   first), "missing : in object pair", "expected separator in dict/list",
///   "duplicate key" once the member's value is complete, the literal
///   errors of `JSONLiteral`, and "premature EOI" when the message ends
///   before its value does;
/// - message boundaries are not its business: the streamer
///   (`JSONStreamParser`) counts braces and brackets as json-streamer.c
///   does, and calls `finish()`.
///
/// The recursion of QEMU's parser becomes an explicit stack of open
/// containers (`open`), so nesting costs heap memory, not thread stack; its
/// depth is bounded by `JSONLimits.maxNesting` through the streamer.
struct JSONTokenParser {
    /// What an open container expects next, named after the token just seen.
    private enum Step: UInt8 {
        /// After `{` or `[`: the closer, or a first key or element.
        case opened
        /// After `,`: a key or element.
        case comma
        /// After a key: `:`.
        case key
        /// After `:`: the member's value.
        case colon
        /// After a key's value or an element: `,` or the closer.
        case value
    }

    /// Set by the lexer before each token: a `.string` token is plain
    /// ASCII with no escape, so its value is its bytes between the quotes.
    /// False by default: a caller that does not know scans it.
    var stringIsPlainASCII = false

    /// An object or array whose closer has not come yet. Its members are
    /// built in place (mutated through the stack's subscript, so never
    /// copied), and it owns its duplicate-key check.
    private struct Container {
        let isObject: Bool
        /// What it expects next, kept here only while a container nested in
        /// it is open (the top's is `step`).
        var step = Step.opened
        var elements: [JSONValue] = []
        var object = JSONObject()
        var keys = DuplicateKeyCheck()
        /// The key whose value is being parsed.
        var key = ""

        init(isObject: Bool) {
            self.isObject = isObject
        }

        /// Adds the member whose key is `key`: the object's new size, or
        /// nil when the key is a repeat. A method, so that the check can
        /// read `object` while it updates `keys`.
        mutating func addMember(_ value: JSONValue) -> Int? {
            guard keys.isNew(key, in: object) else { return nil }
            // Room for 4 at the first member, so that `{}` keeps no storage.
            if object.isEmpty { object = JSONObject(minimumCapacity: 4) }
            object.appendUnchecked(key, value)
            key = ""
            return object.count
        }

        var value: JSONValue { isObject ? .object(object) : .array(elements) }
    }

    /// The open containers, outermost first.
    private var open: [Container] = []
    /// The innermost open container's kind and step, apart from `open`:
    /// they are read for every token, and reading them through the array
    /// would copy the whole container (its references retained and
    /// released) in an unoptimized build.
    private var isObject = false
    private var step = Step.opened
    /// The message's value, once its last token is parsed.
    private var result: JSONValue?
    /// The first error; from then on tokens are only counted by the streamer.
    private var error: JSONParseError?

    /// About what the partial value holds, for the fleet's parser budget
    /// (`parser-bytes-per-fleet`): each element or member at its stride,
    /// each hashed key at a hash-table slot, each string past the 15 bytes
    /// Swift keeps inline at its length plus a heap header, each container
    /// at its stack entry plus a header. Arrays grow by doubling, so the
    /// memory really held is at most about twice this (plus malloc's
    /// rounding): an under-count by a constant factor, never more. It only
    /// grows within a message; 0 after `finish()` or an error (the partial
    /// value is dropped at once then).
    private(set) var heldByteCount = 0

    private static let heapHeader = 32
    private static let inlineStringBytes = 15
    private static let elementCost = MemoryLayout<JSONValue>.stride
    private static let memberCost = MemoryLayout<(key: String, value: JSONValue)>.stride
    /// A `KeyIndex` slot at its load factor after growth (3/8), which
    /// also covers the old table while it is being emptied.
    private static let hashedKeyCost = MemoryLayout<KeyIndex.Slot>.stride * 8 / 3
    private static let containerCost = MemoryLayout<Container>.stride + heapHeader

    init() {
        open.reserveCapacity(8)
    }

    /// True when nothing of a message has been parsed (no value, no error,
    /// nothing open).
    var isEmpty: Bool { open.isEmpty && result == nil && error == nil }

    /// Parses the next token of the message; `bytes` is the whole token and
    /// need only be valid during the call.
    mutating func consume(_ type: JSONLexer.TokenType, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard error == nil else { return }
        guard !open.isEmpty else {
            if result == nil {
                beginValue(type, bytes)
            } else {
                // The streamer ends a message at its value's last token, so
                // this cannot happen; QEMU asserts it.
                fail(.parseError("expecting value"))
            }
            return
        }
        switch step {
        case .value:
            if type == .comma {
                step = .comma
            } else if type == closer {
                close()
            } else {
                fail(.parseError(isObject ? "expected separator in dict" : "expected separator in list"))
            }
        case .key:
            if type == .colon {
                step = .colon
            } else {
                fail(.parseError("missing : in object pair"))
            }
        case .opened:
            if type == closer { close() } else { beginValue(type, bytes) }
        case .comma, .colon:
            beginValue(type, bytes)
        }
    }

    /// The token that closes the innermost open container.
    private var closer: JSONLexer.TokenType { isObject ? .rcurly : .rsquare }

    /// The message ended (the streamer's counts balanced or went negative):
    /// its value or its first error. The parser is then ready for the next.
    mutating func finish() -> Result<JSONValue, JSONParseError> {
        defer { reset() }
        if let error { return .failure(error) }
        if let result, open.isEmpty { return .success(result) }
        return .failure(.parseError("premature EOI"))
    }

    /// Drops the partial message.
    mutating func reset() {
        if !open.isEmpty { open.removeAll(keepingCapacity: open.capacity <= 64) }
        result = nil
        error = nil
        heldByteCount = 0
    }

    /// parse_value: a token that starts a value.
    private mutating func beginValue(_ type: JSONLexer.TokenType, _ bytes: UnsafeBufferPointer<UInt8>) {
        switch type {
        case .lcurly, .lsquare:
            if !open.isEmpty { open[open.count - 1].step = step }
            isObject = type == .lcurly
            step = .opened
            open.append(Container(isObject: isObject))
            heldByteCount &+= Self.containerCost
        case .integer, .float:
            add(JSONLiteral.number(bytes, isInteger: type == .integer))
        case .string:
            do {
                // A token the lexer saw no escape and no byte >= 0x80 in
                // (`stringIsPlainASCII`) is its bytes between the quotes.
                let string = stringIsPlainASCII
                    ? String(decoding: UnsafeBufferPointer(rebasing: bytes[1..<(bytes.count - 1)]), as: UTF8.self)
                    : try JSONLiteral.string(bytes)
                if string.utf8.count > Self.inlineStringBytes { heldByteCount &+= string.utf8.count &+ Self.heapHeader }
                add(.string(string))
            } catch {
                fail(error)
            }
        case .keyword:
            do { add(try JSONLiteral.keyword(bytes)) } catch { fail(error) }
        case .rcurly, .rsquare, .colon, .comma:
            fail(.parseError("expecting value"))
        }
    }

    /// The container on top is complete: it becomes a value of the one below.
    private mutating func close() {
        let container = open.removeLast()
        if !open.isEmpty {
            isObject = open[open.count - 1].isObject
            step = open[open.count - 1].step
        }
        add(container.value)
    }

    /// A complete value: the message's, an element, a key, or a member's value.
    private mutating func add(_ value: JSONValue) {
        guard !open.isEmpty else {
            result = value
            return
        }
        let top = open.count - 1
        guard isObject else {
            open[top].elements.append(value)
            step = .value
            heldByteCount &+= Self.elementCost
            return
        }
        if step == .colon {
            guard let count = open[top].addMember(value) else { return fail(.parseError("duplicate key")) }
            step = .value
            heldByteCount &+= count > DuplicateKeyCheck.linearScanLimit ? Self.memberCost &+ Self.hashedKeyCost : Self.memberCost
        } else {
            // After `{` or `,`: the value was a key.
            guard case .string(let key) = value else { return fail(.parseError("key is not a string in object")) }
            open[top].key = key
            step = .key
        }
    }

    /// The first error: the partial value is of no more use, so its memory
    /// goes at once, not when the message ends.
    private mutating func fail(_ error: JSONParseError) {
        reset()
        self.error = error
    }
}
