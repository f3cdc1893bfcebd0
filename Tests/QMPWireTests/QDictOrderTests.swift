import QMPWire
import Testing

struct QDictOrderTests {
    /// qdict.c's tdb_hash as QEMU writes it: byte i shifted by (i * 5) % 24.
    private func tdbHash(_ bytes: [UInt8]) -> UInt32 {
        var value: UInt32 = 0
        var i: UInt32 = 0
        for byte in bytes {
            value &+= UInt32(byte) << ((i &* 5) % 24)
            i &+= 1
        }
        value &+= 0x238F_13AF &* UInt32(bytes.count)
        return (1_103_515_243 &* value &+ 12345) % 512
    }

    /// The running shift is the same hash for every length (its period is 24
    /// bytes), as a contiguous string and as a generic sequence, and a NUL
    /// hashes as QEMU's stored "\xC0\x80".
    @Test func bucketIsQEMUsHash() {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz-_0123456789é".utf8)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0..<80 {
            var key: [UInt8] = []
            for _ in 0..<length {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                key.append(alphabet[Int(seed >> 33) % alphabet.count])
            }
            let string = String(decoding: key, as: UTF8.self)
            let bytes = Array(string.utf8)
            #expect(QDictOrder.bucket(of: string) == tdbHash(bytes), "\(string)")
            #expect(QDictOrder.bucket(ofUTF8: AnySequence(bytes)) == tdbHash(bytes))
        }
        #expect(QDictOrder.bucket(of: "a\u{0}b") == tdbHash([0x61, 0xC0, 0x80, 0x62]))
        #expect(QDictOrder.bucket(of: "status") == tdbHash(Array("status".utf8)))
    }
}
