import QMPWire

/// The I/O counters of a backend (QEMU's BlockAcctStats), as
/// query-blockstats shows them. Guest `read`/`write` actions advance them.
struct BlockDeviceStats {
    var rdBytes: Int64 = 0
    var wrBytes: Int64 = 0
    var rdOperations: Int64 = 0
    var wrOperations: Int64 = 0
    var rdTotalTimeNs: Int64 = 0
    var wrTotalTimeNs: Int64 = 0
    var failedRdOperations: Int64 = 0
    var failedWrOperations: Int64 = 0
    /// When the last request finished, for `idle_time_ns`.
    var lastAccessNs: Int64?
    /// Nanoseconds per simulated request: a plausible SSD latency.
    static let simulatedLatencyNs: Int64 = 50_000

    /// `accounting` is true for a backend (invalid/failed requests are
    /// accounted there), false for a bare node.
    func json(wrHighestOffset: Int64, accounting: Bool, nowNs: Int64) -> JSONValue {
        var stats: JSONObject = ["rd_bytes": .int(rdBytes), "wr_bytes": .int(wrBytes), "unmap_bytes": 0,
         "rd_operations": .int(rdOperations), "wr_operations": .int(wrOperations), "flush_operations": 0, "unmap_operations": 0,
         "rd_total_time_ns": .int(rdTotalTimeNs), "wr_total_time_ns": .int(wrTotalTimeNs), "flush_total_time_ns": 0,
         "unmap_total_time_ns": 0, "wr_highest_offset": .int(wrHighestOffset),
         "rd_merged": 0, "wr_merged": 0, "unmap_merged": 0,
         "failed_rd_operations": .int(failedRdOperations), "failed_wr_operations": .int(failedWrOperations),
         "failed_flush_operations": 0, "failed_unmap_operations": 0,
         "invalid_rd_operations": 0, "invalid_wr_operations": 0, "invalid_flush_operations": 0, "invalid_unmap_operations": 0,
         "account_invalid": .bool(accounting), "account_failed": .bool(accounting), "timed_stats": []]
        if let last = lastAccessNs { stats["idle_time_ns"] = .int(max(0, nowNs - last)) }
        return .object(stats)
    }
}
