/// The two formats screendump writes in QEMU 7.2.
enum ImageEncoding {
    /// Binary PPM (P6), as QEMU's `ppm_save`.
    static func ppm(_ surface: DisplaySurface) -> [UInt8] {
        var out = Array("P6\n\(surface.width) \(surface.height)\n255\n".utf8)
        out.append(contentsOf: surface.pixels)
        return out
    }

    /// PNG, 8-bit RGB, as QEMU's `png_save` (libpng) writes it. The image
    /// data is a zlib stream of deflate blocks that repeat a pixel run as a
    /// back-reference (our pictures are long runs of one colour).
    static func png(_ surface: DisplaySurface) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(surface.width))
        header.appendBigEndian(UInt32(surface.height))
        header.append(contentsOf: [8, 2, 0, 0, 0])   // 8 bits, RGB, deflate, no filter method, no interlace
        out.appendChunk("IHDR", header)
        var raw: [UInt8] = []
        raw.reserveCapacity(surface.height * (surface.width * 3 + 1))
        let row = surface.width * 3
        surface.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<surface.height {
                raw.append(0)                        // filter: none
                raw.append(contentsOf: pixels[(y * row)..<(y * row + row)])
            }
        }
        out.appendChunk("IDAT", Deflate.zlib(raw))
        out.appendChunk("IEND", [])
        return out
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)])
    }

    mutating func appendChunk(_ type: String, _ data: [UInt8]) {
        appendBigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        append(contentsOf: typed)
        appendBigEndian(CRC32.checksum(typed))
    }
}

/// CRC-32 (ISO-HDLC) for PNG chunks.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }
}
