/// A small deflate encoder (RFC 1951, fixed Huffman codes) for PNG data.
///
/// It only finds one kind of match: a repeat of the bytes one pixel back
/// (distance 3). That is all our pictures need: every row is a few runs of
/// one colour, so a 640x480 screen packs into a few kilobytes.
enum Deflate {
    /// The longest match deflate can express.
    static let maxMatch = 258
    static let pixelDistance = 3

    /// A zlib stream (RFC 1950) around one fixed-Huffman deflate block.
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)      // BFINAL
        bits.write(1, count: 2)      // BTYPE = fixed Huffman
        data.withUnsafeBufferPointer { input in
            var i = 0
            while i < input.count {
                var length = 0
                if i >= pixelDistance {
                    while length < maxMatch, i + length < input.count, input[i + length] == input[i + length - pixelDistance] {
                        length += 1
                    }
                }
                if length >= 3 {
                    bits.writeLength(length)
                    bits.writeHuffman(2, count: 5)   // distance code 2 = distance 3, no extra bits
                    i += length
                } else {
                    bits.writeLiteral(Int(input[i]))
                    i += 1
                }
            }
        }
        bits.writeLiteral(256)                       // end of block
        var out: [UInt8] = [0x78, 0x01]
        out.append(contentsOf: bits.finish())
        out.appendBigEndian(adler32(data))
        return out
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var index = 0
        while index < data.count {
            let end = min(index + 5552, data.count)   // largest run before the sums must be reduced
            for k in index..<end {
                a &+= UInt32(data[k])
                b &+= a
            }
            a %= 65521
            b %= 65521
            index = end
        }
        return b << 16 | a
    }
}

/// Bits packed least significant first, as deflate stores them.
struct BitWriter {
    private var bytes: [UInt8] = []
    private var buffer: UInt32 = 0
    private var filled: UInt32 = 0

    mutating func write(_ value: Int, count: Int) {
        buffer |= UInt32(value) << filled
        filled += UInt32(count)
        while filled >= 8 {
            bytes.append(UInt8(buffer & 0xff))
            buffer >>= 8
            filled -= 8
        }
    }

    /// Huffman codes are stored most significant bit first.
    mutating func writeHuffman(_ code: Int, count: Int) {
        var reversed = 0
        for k in 0..<count where code >> k & 1 == 1 { reversed |= 1 << (count - 1 - k) }
        write(reversed, count: count)
    }

    /// A literal byte or the end-of-block symbol, with the fixed code table.
    mutating func writeLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeHuffman(0x30 + symbol, count: 8)
        case 144...255: writeHuffman(0x190 + symbol - 144, count: 9)
        case 256...279: writeHuffman(symbol - 256, count: 7)
        default: writeHuffman(0xc0 + symbol - 280, count: 8)
        }
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]

    mutating func writeLength(_ length: Int) {
        var code = BitWriter.lengthBase.count - 1
        while BitWriter.lengthBase[code] > length { code -= 1 }
        writeLiteral(257 + code)
        let extra = BitWriter.lengthExtra[code]
        if extra > 0 { write(length - BitWriter.lengthBase[code], count: extra) }
    }

    mutating func finish() -> [UInt8] {
        if filled > 0 { bytes.append(UInt8(buffer & 0xff)) }
        buffer = 0
        filled = 0
        return bytes
    }
}
