/// QEMU's JSON lexer (qobject/json-lexer.c), byte for byte.
///
/// It is a state machine over bytes that cuts the input into tokens. Its
/// quirks are part of the protocol: single-quoted strings are strings,
/// any run of lowercase letters is a "keyword" token (checked later), bytes
/// 0x20...0xFD may appear raw in strings (UTF-8 is checked later), and after
/// an invalid byte it skips input until a structural character or a control
/// character, so that a client can re-synchronise by sending a newline.
struct JSONLexer: Sendable {
    enum State: UInt8, Sendable {
        case start, recovery
        case dqString, dqEscape, sqString, sqEscape
        case zero, sign, digits, mantissa, mantissaDigits, expE, expSign, expDigits
        case keyword
    }

    enum TokenType: UInt8, Sendable {
        case lcurly, rcurly, lsquare, rsquare, colon, comma, integer, float, keyword, string
    }

    /// What one byte does.
    enum Step {
        /// The byte belongs to the current token; go to `State`.
        case consume(State)
        /// The byte completes a token (consumed) or ends one before it (lookahead).
        case emit(TokenType, consumed: Bool)
        /// Whitespace between tokens.
        case skip
        /// The byte is not valid here: it ends an error token.
        case error
        /// In recovery: the byte is skipped.
        case stayInRecovery
        /// In recovery: the byte may start something; look at it again from `start`.
        case resynchronize
    }

    var state: State = .start

    @inline(__always)
    static func isStructural(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
            || c == UInt8(ascii: ":") || c == UInt8(ascii: ",")
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// The transition table of json-lexer.c.
    @inline(__always)
    func step(_ c: UInt8) -> Step {
        switch state {
        case .start:
            switch c {
            case UInt8(ascii: "\""): return .consume(.dqString)
            case UInt8(ascii: "'"): return .consume(.sqString)
            case UInt8(ascii: "0"): return .consume(.zero)
            case UInt8(ascii: "1")...UInt8(ascii: "9"): return .consume(.digits)
            case UInt8(ascii: "-"): return .consume(.sign)
            case UInt8(ascii: "{"): return .emit(.lcurly, consumed: true)
            case UInt8(ascii: "}"): return .emit(.rcurly, consumed: true)
            case UInt8(ascii: "["): return .emit(.lsquare, consumed: true)
            case UInt8(ascii: "]"): return .emit(.rsquare, consumed: true)
            case UInt8(ascii: ","): return .emit(.comma, consumed: true)
            case UInt8(ascii: ":"): return .emit(.colon, consumed: true)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return .consume(.keyword)
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): return .skip
            default: return .error
            }
        case .recovery:
            if c == UInt8(ascii: "\t") { return .stayInRecovery }
            if c < 0x20 || c >= 0xFE || Self.isStructural(c) { return .resynchronize }
            return .stayInRecovery
        case .dqString:
            guard c >= 0x20 && c <= 0xFD else { return .error }
            if c == UInt8(ascii: "\\") { return .consume(.dqEscape) }
            if c == UInt8(ascii: "\"") { return .emit(.string, consumed: true) }
            return .consume(.dqString)
        case .dqEscape:
            return c >= 0x20 && c <= 0xFD ? .consume(.dqString) : .error
        case .sqString:
            guard c >= 0x20 && c <= 0xFD else { return .error }
            if c == UInt8(ascii: "\\") { return .consume(.sqEscape) }
            if c == UInt8(ascii: "'") { return .emit(.string, consumed: true) }
            return .consume(.sqString)
        case .sqEscape:
            return c >= 0x20 && c <= 0xFD ? .consume(.sqString) : .error
        case .zero:
            if Self.isDigit(c) { return .error }
            if c == UInt8(ascii: ".") { return .consume(.mantissa) }
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return .consume(.expE) }
            return .emit(.integer, consumed: false)
        case .sign:
            if c == UInt8(ascii: "0") { return .consume(.zero) }
            if c >= UInt8(ascii: "1") && c <= UInt8(ascii: "9") { return .consume(.digits) }
            return .error
        case .digits:
            if Self.isDigit(c) { return .consume(.digits) }
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return .consume(.expE) }
            if c == UInt8(ascii: ".") { return .consume(.mantissa) }
            return .emit(.integer, consumed: false)
        case .mantissa:
            return Self.isDigit(c) ? .consume(.mantissaDigits) : .error
        case .mantissaDigits:
            if Self.isDigit(c) { return .consume(.mantissaDigits) }
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return .consume(.expE) }
            return .emit(.float, consumed: false)
        case .expE:
            if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { return .consume(.expSign) }
            return Self.isDigit(c) ? .consume(.expDigits) : .error
        case .expSign:
            return Self.isDigit(c) ? .consume(.expDigits) : .error
        case .expDigits:
            return Self.isDigit(c) ? .consume(.expDigits) : .emit(.float, consumed: false)
        case .keyword:
            if c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") { return .consume(.keyword) }
            return .emit(.keyword, consumed: false)
        }
    }
}
