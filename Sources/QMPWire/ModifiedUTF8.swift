/// QEMU's reading of UTF-8 (util/unicode.c), which decides two things a
/// client sees: which strings the parser accepts, and how raw input bytes
/// look when QEMU quotes them back in an error text.
///
/// QEMU keeps strings as "modified UTF-8": NUL is stored as `C0 80`, so
/// `C0 80` in the input is accepted as U+0000, while every other overlong
/// form, surrogate, noncharacter (U+FDD0...U+FDEF, U+xxFFFE/F) and anything
/// past U+10FFFF is invalid. When QEMU writes a string that holds invalid
/// bytes (a "stray" token quoted in an error), each invalid sequence becomes
/// one U+FFFD, and the string ends at the first NUL byte (it is a C string):
///
/// ```swift
/// ModifiedUTF8.displayString(Array("\"a".utf8) + [0xED, 0xA0, 0x80, 0x01])
/// // "\"a\u{FFFD}\u{01}"   (QEMU 7.2: stray '\"a\uFFFD\u0001')
/// ```
enum ModifiedUTF8 {
    /// util/unicode.c's `is_valid_codepoint`.
    @inline(__always)
    static func isValidCodePoint(_ cp: Int) -> Bool {
        if cp < 0 || cp > 0x10FFFF { return false }
        if (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE { return false }
        if cp >= 0xD800 && cp <= 0xDFFF { return false }
        return true
    }

    /// util/unicode.c's `mod_utf8_codepoint` over `bytes[i...]` (a NUL or
    /// the end of `bytes` stops it): the code point, or -1 when invalid,
    /// and how many bytes QEMU consumed either way.
    static func codePoint(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (cp: Int, length: Int) {
        let first = bytes[i]
        if first < 0x80 { return (Int(first), 1) }
        if first >= 0xFE || first & 0x40 == 0 { return (-1, 1) }
        var length = 0
        var mask: UInt8 = 0x80
        while first & mask != 0 {
            length += 1
            mask >>= 1
        }
        var cp = Int(first & (mask &- 1))
        for k in 1..<length {
            let byte: UInt8 = i + k < bytes.count ? bytes[i + k] : 0
            if byte & 0xC0 != 0x80 { return (-1, k) }
            cp = cp << 6 | Int(byte & 0x3F)
        }
        let minimum: Int
        switch length {
        case 2: minimum = 0x80
        case 3: minimum = 0x800
        case 4: minimum = 0x10000
        case 5: minimum = 0x200000
        default: minimum = 0x4000000
        }
        if !isValidCodePoint(cp) { return (-1, length) }
        if cp < minimum && !(cp == 0 && length == 2) { return (-1, length) }
        return (cp, length)
    }

    /// The text QEMU's JSON writer shows for these raw bytes: decoded as
    /// above, U+FFFD for each invalid sequence, cut at the first NUL.
    static func displayString(_ raw: some Collection<UInt8>) -> String {
        let bytes = Array(raw)
        return bytes.withUnsafeBufferPointer { buffer -> String in
            let end = buffer.firstIndex(of: 0) ?? buffer.count
            let text = UnsafeBufferPointer(rebasing: buffer[..<end])
            if !text.contains(where: { $0 >= 0x80 }) { return String(decoding: text, as: UTF8.self) }
            var scalars = String.UnicodeScalarView()
            var i = 0
            while i < text.count {
                let (cp, length) = codePoint(text, at: i)
                scalars.append(cp < 0 ? "\u{FFFD}" : Unicode.Scalar(UInt32(cp)) ?? "\u{FFFD}")
                i += length
            }
            return String(scalars)
        }
    }

    /// Appends `cp` (valid, so never a surrogate) as standard UTF-8.
    @inline(__always)
    static func append(_ cp: Int, to out: inout [UInt8]) {
        switch cp {
        case 0..<0x80:
            out.append(UInt8(cp))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (cp >> 6)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (cp >> 12)))
            out.append(UInt8(0x80 | ((cp >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (cp >> 18)))
            out.append(UInt8(0x80 | ((cp >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((cp >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        }
    }
}
