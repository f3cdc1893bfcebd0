/// Finds the end of a run of string bytes that need no attention: printable
/// ASCII (0x20...0x7F) other than the closing quote and the backslash. This
/// is where long strings spend their time, so it looks at eight bytes at once.
/// With `stopAtDelete`, DEL (0x7F) ends a run too: `JSONWriter` escapes it,
/// so `CanonicalJSON` must see it.
enum PlainTextScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Bit 7 of each byte of `x` that is zero (the classic SWAR test),
    /// and possibly of bytes above such a byte; none when no byte is zero.
    @inline(__always)
    private static func zeroBytes(_ x: UInt64) -> UInt64 {
        (x &- ones) & ~x & highs
    }

    /// The index in `start..<end` of the first byte that is not plain, or `end`.
    @inline(__always)
    static func plainRunEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, quote: UInt8,
                            stopAtDelete: Bool = false) -> Int {
        var j = start
        if let base = bytes.baseAddress, end - j >= 8 {
            let raw = UnsafeRawPointer(base)
            let quotes = ones &* UInt64(quote)
            let backslashes = ones &* UInt64(UInt8(ascii: "\\"))
            let spaces = ones &* 0x20
            let deletes = ones &* 0x7F
            while end - j >= 8 {
                // Read as little-endian, so byte k of the text is byte k of the word.
                let x = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: j, as: UInt64.self))
                // A byte >= 0x80, < 0x20 (x - 0x20 borrows into bit 7), a quote or a backslash.
                var stops = x & highs | (x &- spaces) & ~x & highs | zeroBytes(x ^ quotes) | zeroBytes(x ^ backslashes)
                if stopAtDelete { stops |= zeroBytes(x ^ deletes) }
                if stops != 0 {
                    // A mask's false positives lie only above a byte it
                    // flags rightly (a borrow runs upward): the lowest
                    // flagged byte is the first one that is not plain.
                    return j + stops.trailingZeroBitCount >> 3
                }
                j += 8
            }
        }
        while j < end {
            let c = bytes[j]
            if c < 0x20 || c >= 0x80 || c == quote || c == UInt8(ascii: "\\") || (stopAtDelete && c == 0x7F) { return j }
            j += 1
        }
        return j
    }
}
