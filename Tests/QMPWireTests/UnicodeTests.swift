import QMPWire
import Testing

/// Strings in and out, checked by echoing them as `id` through QEMU 7.2.
struct UnicodeTests {
    func idReply(_ raw: [UInt8]) -> String? {
        qmpReplies(Array(#"{"execute":"query-status","id":""#.utf8) + raw + Array(#""}"#.utf8)).first
    }

    // QEMU 7.2: id "é😀" raw -> "id": "\u00E9\uD83D\uDE00"; "\ud83d\ude00" escaped -> the same.
    @Test func nonASCIIIsEchoedAsEscapes() {
        #expect(idReply(Array("é😀".utf8)) == #"ok "\u00E9\uD83D\uDE00""#)
        #expect(idReply(Array(#"\ud83d\ude00"#.utf8)) == #"ok "\uD83D\uDE00""#)
        #expect(idReply(Array(#"\u0041\u00e9\ud83d\udE00"#.utf8)) == #"ok "A\u00E9\uD83D\uDE00""#)
    }

    // QEMU 7.2: "a\"b\\c\n\r\t\b\f\/\u0001\u007f\u0080" -> "a\"b\\c\n\r\t\b\f/\u0001\u007F\u0080"; raw 0x7F -> "\u007F".
    @Test func escapesAreWrittenTheQEMUWay() {
        #expect(idReply(Array(#"a\"b\\c\n\r\t\b\f\/\u0001\u007f\u0080"#.utf8)) == #"ok "a\"b\\c\n\r\t\b\f/\u0001\u007F\u0080""#)
        #expect(idReply([0x7F]) == #"ok "\u007F""#)
    }

    // QEMU 7.2: "\u0000", "x\u0000y" and raw C0 80 are all kept and written "\u0000".
    @Test func nulSurvives() {
        #expect(idReply(Array(#"\u0000"#.utf8)) == #"ok "\u0000""#)
        #expect(idReply(Array(#"x\u0000y"#.utf8)) == #"ok "x\u0000y""#)
        #expect(idReply([0xC0, 0x80]) == #"ok "\u0000""#)
    }

    // QEMU 7.2: "JSON parse error, invalid UTF-8 sequence in string" for C3 28, ED A0 80 (a surrogate),
    // F4 90 80 80 (past U+10FFFF), EF BF BF (U+FFFF), F8 88 80 80 80, a cut E2 82, and "é" then a lone C3.
    @Test(arguments: [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBF, 0xBF],
                      [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xC3, 0xA9, 0xC3], [0xE0, 0x80, 0x80]] as [[UInt8]])
    func invalidUTF8(_ raw: [UInt8]) {
        #expect(idReply(raw) == "JSON parse error, invalid UTF-8 sequence in string")
    }

    // QEMU 7.2 texts for bad \u escapes; "%.*s" runs past the escape up to the token's end.
    @Test func invalidEscapes() {
        #expect(idReply(Array(#"\ud83d"#.utf8)) == #"JSON parse error, \ud83d is not a valid Unicode character"#)
        #expect(idReply(Array(#"\udc00"#.utf8)) == #"JSON parse error, \udc00 is not a valid Unicode character"#)
        #expect(idReply(Array(#"\ud83d\u0041"#.utf8)) == #"JSON parse error, \ud83d is not a valid Unicode character"#)
        #expect(idReply(Array(#"\ud83dx"#.utf8)) == #"JSON parse error, \ud83d is not a valid Unicode character"#)
        #expect(idReply(Array(#"\uFFFF"#.utf8)) == #"JSON parse error, \uFFFF is not a valid Unicode character"#)
        #expect(idReply(Array(#"\uFDD0"#.utf8)) == #"JSON parse error, \uFDD0 is not a valid Unicode character"#)
        #expect(idReply(Array(#"\u"#.utf8)) == #"JSON parse error, \u" is not a valid Unicode character"#)
        #expect(idReply(Array(#"\u1"#.utf8)) == #"JSON parse error, \u1" is not a valid Unicode character"#)
        #expect(qmpReplies(#"["\u12"]"#).first == #"JSON parse error, \u12" is not a valid Unicode character"#)
        #expect(qmpReplies(#"["\u12g4"]"#).first == #"JSON parse error, \u12g4 is not a valid Unicode character"#)
        // QEMU 7.2: \u12 then "€" (E2 82 AC): six bytes quoted, the cut sequence shown as one U+FFFD.
        #expect(idReply(Array(#"\u12"#.utf8) + [0xE2, 0x82, 0xAC]) == "JSON parse error, \\u12\u{FFFD} is not a valid Unicode character")
    }

    // QEMU 7.2 quotes raw bytes of a stray token through its writer: one \uFFFD per invalid
    // sequence as util/unicode.c reads it, C0 80 as \u0000:
    //   "a ED A0 80 01 -> stray '"a\uFFFD\u0001'     "a E2 82 1F -> stray '"a\uFFFD\u001F'
    //   "a C0 80 1F -> stray '"a\u0000\u001F'        "a E2 82 AC 1F -> stray '"a\u20AC\u001F'
    //   "a F4 90 80 80 1F -> stray '"a\uFFFD\u001F'  "a 80 80 1F -> stray '"a\uFFFD\uFFFD\u001F'
    //   " FE -> stray '"\uFFFD'
    // each followed by "expecting value" for the closing '}'.
    @Test func strayTextsShowRawBytesAsQEMUDoes() {
        func stray(_ raw: [UInt8]) -> [String] {
            qmpReplies(Array(#"{"execute": "query-status", "id": ""#.utf8) + raw + Array(#""}"#.utf8))
        }
        let tail = "JSON parse error, expecting value"
        #expect(stray([0x61, 0xED, 0xA0, 0x80, 0x01]) == ["JSON parse error, stray '\"a\u{FFFD}\u{01}'", tail])
        #expect(stray([0x61, 0xE2, 0x82, 0x1F]) == ["JSON parse error, stray '\"a\u{FFFD}\u{1F}'", tail])
        #expect(stray([0x61, 0xC0, 0x80, 0x1F]) == ["JSON parse error, stray '\"a\u{0}\u{1F}'", tail])
        #expect(stray([0x61, 0xE2, 0x82, 0xAC, 0x1F]) == ["JSON parse error, stray '\"a€\u{1F}'", tail])
        #expect(stray([0x61, 0xF4, 0x90, 0x80, 0x80, 0x1F]) == ["JSON parse error, stray '\"a\u{FFFD}\u{1F}'", tail])
        #expect(stray([0x61, 0x80, 0x80, 0x1F]) == ["JSON parse error, stray '\"a\u{FFFD}\u{FFFD}\u{1F}'", tail])
        #expect(stray([0xFE]) == ["JSON parse error, stray '\"\u{FFFD}'", tail])
        // and on the wire the desc reads as QEMU's does
        let line = QMPMessage.failure(.generic("JSON parse error, stray '\"a\u{0}\u{1F}'"), id: nil)
        #expect(String(decoding: line, as: UTF8.self) == #"{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\"a\u0000\u001F'"}}"# + "\r\n")
    }
}
