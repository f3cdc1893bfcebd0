/// Sizes in config files, as QEMU's `-m` and `-object size=` read them:
/// a number of bytes, or a number with a K/M/G/T suffix (powers of 1024).
enum ByteSize {
    static func parse(_ text: String) -> UInt64? {
        guard let last = text.last else { return nil }
        let shifts: [Character: UInt64] = ["B": 0, "K": 10, "M": 20, "G": 30, "T": 40]
        if let shift = shifts[Character(last.uppercased())] {
            guard let n = UInt64(text.dropLast()), n <= UInt64.max >> shift else { return nil }
            return n << shift
        }
        return UInt64(text)
    }
}
