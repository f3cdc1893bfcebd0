/// QEMU's JSON lexer (qobject/json-lexer.c): its states, token types and
/// byte classes. The loop that drives it is `JSONStreamParser.feed`.
///
/// Its quirks are part of the protocol, all checked against QEMU 7.2:
/// - single-quoted strings are strings (`'it\'s'`), and `\'` is an escape in both kinds;
/// - any run of lowercase letters is a "keyword" token, checked only by the
///   parser (`nul` → "invalid keyword 'nul'"; `abc123` is keyword `abc`, then `123`);
/// - bytes 0x20...0xFD may appear raw in strings (UTF-8 is checked later by
///   the parser); a control byte, 0xFE or 0xFF there is an error;
/// - numbers follow RFC 8259 strictly (`01`, `1.`, `1e`, `-`, `.5` are errors);
/// - an error token includes the byte that made it invalid (`stray '-{'`), and
///   after it the lexer skips input until a structural character (`[]{}:,`),
///   a control character other than tab, or 0xFE/0xFF, and lexes that byte
///   afresh: that is how a client re-synchronises (QEMU's docs suggest 0xFF
///   or a newline).
enum JSONLexer {
    enum State: UInt8, Sendable {
        case start, recovery
        // Token states from here on: a token is in progress.
        case dqString, dqEscape, sqString, sqEscape
        case zero, sign, digits, mantissa, mantissaDigits, expE, expSign, expDigits
        case keyword

        @inline(__always)
        var isInToken: Bool { rawValue >= State.dqString.rawValue }
    }

    enum TokenType: UInt8, Sendable {
        case lcurly, rcurly, lsquare, rsquare, colon, comma, integer, float, keyword, string
    }

    /// `[]{}:,`
    @inline(__always)
    static func isStructural(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
            || c == UInt8(ascii: ":") || c == UInt8(ascii: ",")
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    static func isLowercase(_ c: UInt8) -> Bool { c &- UInt8(ascii: "a") < 26 }

    /// In the recovery state: does this byte end the skipping (and get lexed again)?
    @inline(__always)
    static func resynchronizes(_ c: UInt8) -> Bool {
        c != UInt8(ascii: "\t") && (c < 0x20 || c >= 0xFE || isStructural(c))
    }

    /// Bytes a string may hold raw.
    @inline(__always)
    static func isStringByte(_ c: UInt8) -> Bool { c >= 0x20 && c <= 0xFD }
}
