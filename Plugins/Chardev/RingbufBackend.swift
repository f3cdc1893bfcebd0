/// `ringbuf`/`memory`: a power-of-two ring of the newest output bytes,
/// which ringbuf-read consumes and ringbuf-write appends to, as QEMU's
/// `ringbuf_chr_write`/`ringbuf_chr_read` do.
final class RingbufBackend: ChardevBackend {
    /// QEMU's default size (`CBUFF_SIZE`).
    static let defaultSize: Int64 = 65536
    /// The largest ring a client may ask for.
    static let maximumSize: Int64 = 16 << 20

    let filename: String
    /// The ring's size: at most this many of the newest bytes are kept.
    private let capacity: Int
    /// The unread bytes from `head` on. It grows with what is written (not
    /// to `capacity` up front), so 10,000 idle consoles cost next to nothing.
    private var storage: [UInt8] = []
    private var head = 0

    init(kind: String, size: Int) {
        filename = kind
        capacity = size
    }

    var count: Int { storage.count - head }

    func write(_ bytes: [UInt8]) {
        guard capacity > 0 else { return }
        storage.append(contentsOf: bytes.suffix(capacity))
        if count > capacity { head = storage.count - capacity }
        compactIfNeeded()
    }

    /// The unread bytes, left in place (live migration saves them).
    var unread: [UInt8] { Array(storage[head...]) }

    /// Takes up to `size` of the oldest bytes.
    func read(_ size: Int) -> [UInt8] {
        let n = min(size, count)
        guard n > 0 else { return [] }
        let out = Array(storage[head..<(head + n)])
        head += n
        compactIfNeeded()
        return out
    }

    /// Drops consumed bytes once they outweigh the live ones.
    private func compactIfNeeded() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 4096)
            head = 0
        } else if head > 4096 && head > count {
            storage.removeFirst(head)
            head = 0
        }
    }

    func close() {}
}
