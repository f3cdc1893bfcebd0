import QMPWire

/// The `ram` member of query-migrate (`MigrationStats`), counted as the
/// simulated guest's RAM goes out: every page is a normal page (the
/// simulation has no zero-page detection), sent at `max-bandwidth`.
struct RAMCounters {
    static let pageSize: UInt64 = 4096

    /// Guest RAM bytes.
    var total: UInt64 = 0
    /// RAM bytes not yet queued for the target.
    var remaining: UInt64 = 0
    /// Bytes of the stream written to the socket.
    var transferred: UInt64 = 0
    var precopyBytes: UInt64 = 0
    var postcopyBytes: UInt64 = 0
    var downtimeBytes: UInt64 = 0
    /// Pages queued (normal pages).
    var normalPages: UInt64 = 0
    var dirtySyncCount: UInt64 = 0
    /// Bits per microsecond (QEMU's mbps), of the last 100 ms period.
    var mbps: Double = 0
    var pagesPerSecond: UInt64 = 0

    init(total: UInt64 = 0) {
        self.total = total
        remaining = total
    }

    /// The next page-aligned chunk of at most `limit` bytes to send, and
    /// its offset; nil when all RAM has gone.
    mutating func take(atMost limit: UInt64) -> (offset: UInt64, bytes: UInt64)? {
        guard remaining > 0, limit > 0 else { return nil }
        let bytes = min(remaining, limit)
        let offset = total - remaining
        remaining -= bytes
        normalPages += (bytes + RAMCounters.pageSize - 1) / RAMCounters.pageSize
        return (offset, bytes)
    }

    var info: JSONValue {
        [
            "transferred": .uint(transferred), "remaining": .uint(remaining), "total": .uint(total),
            "duplicate": 0, "skipped": 0, "normal": .uint(normalPages),
            "normal-bytes": .uint(normalPages &* RAMCounters.pageSize), "dirty-pages-rate": 0, "mbps": .double(mbps),
            "dirty-sync-count": .uint(dirtySyncCount), "postcopy-requests": 0, "page-size": .uint(RAMCounters.pageSize),
            "multifd-bytes": 0, "pages-per-second": .uint(pagesPerSecond), "precopy-bytes": .uint(precopyBytes),
            "downtime-bytes": .uint(downtimeBytes), "postcopy-bytes": .uint(postcopyBytes), "dirty-sync-missed-zero-copy": 0,
        ]
    }
}
