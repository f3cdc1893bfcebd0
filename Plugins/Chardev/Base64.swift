/// Base64 as QEMU's ringbuf commands use it: `g_base64_encode` on the way
/// out, and `qbase64_decode` on the way in (only the base64 alphabet, '='
/// and newlines are accepted; an incomplete last group is dropped, as
/// glib's decoder drops it).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0xf) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    enum DecodeError: Error { case invalidCharacters }

    static func decode(_ text: String) -> Result<[UInt8], DecodeError> {
        var values: [UInt8] = []
        var padding = 0
        var out: [UInt8] = []
        for c in text.utf8 {
            if c == UInt8(ascii: "\n") { continue }
            if c == UInt8(ascii: "=") {
                padding += 1
                values.append(0)
            } else if let v = value(c) {
                values.append(v)
            } else {
                return .failure(.invalidCharacters)
            }
            if values.count == 4 {
                let triple = [values[0] << 2 | values[1] >> 4, values[1] << 4 | values[2] >> 2, values[2] << 6 | values[3]]
                out.append(contentsOf: triple.prefix(3 - min(padding, 2)))
                values.removeAll()
                padding = 0
            }
        }
        return .success(out)
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
