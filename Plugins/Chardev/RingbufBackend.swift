/// `ringbuf`/`memory`: a power-of-two ring of the newest output bytes,
/// which ringbuf-read consumes and ringbuf-write appends to, as QEMU's
/// `ringbuf_chr_write`/`ringbuf_chr_read` do.
final class RingbufBackend: ChardevBackend {
    /// QEMU's default size (`CBUFF_SIZE`).
    static let defaultSize: Int64 = 65536
    /// The largest ring a client may ask for.
    static let maximumSize: Int64 = 16 << 20

    let filename: String
    private var storage: [UInt8]
    private var produced = 0
    private var consumed = 0

    init(kind: String, size: Int) {
        filename = kind
        storage = [UInt8](repeating: 0, count: size)
    }

    var count: Int { produced - consumed }

    func write(_ bytes: [UInt8]) {
        guard !storage.isEmpty else { return }
        let mask = storage.count - 1
        for b in bytes {
            storage[produced & mask] = b
            produced += 1
            if produced - consumed > storage.count { consumed = produced - storage.count }
        }
    }

    /// Takes up to `size` of the oldest bytes.
    func read(_ size: Int) -> [UInt8] {
        let n = min(size, count)
        guard n > 0 else { return [] }
        let mask = storage.count - 1
        var out = [UInt8]()
        out.reserveCapacity(n)
        for i in 0..<n { out.append(storage[(consumed + i) & mask]) }
        consumed += n
        return out
    }

    func close() {}
}
