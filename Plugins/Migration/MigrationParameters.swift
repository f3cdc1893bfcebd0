import QMPPluginKit
import QMPWire

/// QEMU 7.2's migration parameters (`MigrationParameters` in migration.json)
/// with their defaults, and `migrate_params_check`'s limits and texts.
///
/// Values are kept in QAPI declaration order so query-migrate-parameters
/// lists them as QEMU declares them.
struct MigrationParameters {
    /// The target page size on x86: xbzrle-cache-size must be a power of
    /// two no smaller than this.
    static let targetPageSize: UInt64 = 4096
    /// QEMU's `MAX_MIGRATE_DOWNTIME` (2000 s in ms).
    static let maxDowntimeMilliseconds: UInt64 = 2000 * 1000

    /// The current values; every VM shares `defaults` (copy on write) until
    /// it sets one.
    private(set) var values = MigrationParameters.defaults

    /// `migrate_params_init` and the migration object's property defaults.
    static let defaults: JSONObject = [
        "announce-initial": 50, "announce-max": 550, "announce-rounds": 5, "announce-step": 100,
        "compress-level": 1, "compress-threads": 8, "compress-wait-thread": true, "decompress-threads": 2,
        "throttle-trigger-threshold": 50, "cpu-throttle-initial": 20, "cpu-throttle-increment": 10,
        "cpu-throttle-tailslow": false, "tls-creds": "", "tls-hostname": "", "tls-authz": "",
        "max-bandwidth": 134_217_728, "downtime-limit": 300, "x-checkpoint-delay": 20000,
        "block-incremental": false, "multifd-channels": 2, "xbzrle-cache-size": 67_108_864,
        "max-postcopy-bandwidth": 0, "max-cpu-throttle": 99, "multifd-compression": "none",
        "multifd-zlib-level": 1, "multifd-zstd-level": 1,
    ]

    /// Parameters QEMU 7.2 accepts and then drops: `migrate_params_test_apply`
    /// and `migrate_params_apply` never copy them (a 7.2 bug kept as is).
    static let ignored: Set<String> = ["multifd-zlib-level", "multifd-zstd-level"]

    /// QAPI `size`/`uint64` members: a negative JSON integer wraps as QEMU's
    /// input visitor reads it.
    static let unsigned64: Set<String> = [
        "announce-initial", "announce-max", "announce-rounds", "announce-step", "max-bandwidth",
        "downtime-limit", "xbzrle-cache-size", "max-postcopy-bandwidth",
    ]

    var xbzrleCacheSize: UInt64 { values["xbzrle-cache-size"].flatMap(MigrationParameters.unsigned) ?? 0 }

    /// `max-bandwidth` in bytes/s (0: no limit).
    var maxBandwidth: UInt64 { values["max-bandwidth"].flatMap(MigrationParameters.unsigned) ?? 0 }
    /// `max-postcopy-bandwidth` in bytes/s (0: no limit, QEMU's default).
    var maxPostcopyBandwidth: UInt64 { values["max-postcopy-bandwidth"].flatMap(MigrationParameters.unsigned) ?? 0 }
    /// `downtime-limit` in ms.
    var downtimeLimit: UInt64 { values["downtime-limit"].flatMap(MigrationParameters.unsigned) ?? 300 }

    mutating func setXBZRLECacheSize(_ size: UInt64) { values["xbzrle-cache-size"] = .uint(size) }

    /// migrate-set-parameters: checked as a whole, then applied.
    mutating func apply(_ request: JSONObject) -> Result<Void, QMPError> {
        var candidate = values
        for (name, value) in request where !MigrationParameters.ignored.contains(name) {
            switch value {
            case .null: candidate[name] = ""                       // StrOrNull null: tls-* reset to ""
            case .int(let n) where n < 0 && MigrationParameters.unsigned64.contains(name):
                candidate[name] = .uint(UInt64(bitPattern: n))
            default: candidate[name] = value
            }
        }
        if let error = MigrationParameters.check(candidate, request: request) { return .failure(error) }
        values = candidate
        return .success(())
    }

    private static func unsigned(_ value: JSONValue) -> UInt64? {
        switch value {
        case .int(let n): return UInt64(bitPattern: n)
        case .uint(let n): return n
        default: return nil
        }
    }

    /// `migrate_params_check`, in its order, on the parameters as they
    /// would be after the request (only the members the request sets).
    private static func check(_ p: JSONObject, request: JSONObject) -> QMPError? {
        func value(_ name: String) -> UInt64? {
            guard request[name] != nil, let v = p[name] else { return nil }
            return unsigned(v)
        }
        func between(_ name: String, _ low: UInt64, _ high: UInt64, range: Bool) -> QMPError? {
            guard let v = value(name), v < low || v > high else { return nil }
            let cName = name.replacingHyphens
            return range
                ? .generic("Parameter '\(cName)' expects an integer in the range of \(low) to \(high)")
                : .generic("Parameter '\(cName)' expects a value between \(low) and \(high)")
        }
        if let e = between("compress-level", 0, 9, range: false) { return e }
        if let e = between("compress-threads", 1, 255, range: false) { return e }
        if let e = between("decompress-threads", 1, 255, range: false) { return e }
        if let e = between("throttle-trigger-threshold", 1, 100, range: true) { return e }
        if let e = between("cpu-throttle-initial", 1, 99, range: true) { return e }
        if let e = between("cpu-throttle-increment", 1, 99, range: true) { return e }
        if let v = value("downtime-limit"), v > maxDowntimeMilliseconds {
            return .generic("Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms")
        }
        if let e = between("multifd-channels", 1, 255, range: false) { return e }
        if let v = value("xbzrle-cache-size"), v < targetPageSize || v & (v - 1) != 0 {
            return .generic("Parameter 'xbzrle_cache_size' expects a power of two no less than the target page size")
        }
        if let v = value("max-cpu-throttle") {
            let initial = p["cpu-throttle-initial"].flatMap(unsigned) ?? 0
            if v < initial || v > 99 {
                return .generic("Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99")
            }
        }
        if let e = between("announce-initial", 0, 100_000, range: false) { return e }
        if let e = between("announce-max", 0, 100_000, range: false) { return e }
        if let e = between("announce-rounds", 0, 1000, range: false) { return e }
        if let e = between("announce-step", 0, 10_000, range: false) { return e }
        return nil
    }
}

extension String {
    /// QEMU's C member name in its error texts: `compress-level` is `compress_level`.
    var replacingHyphens: String { String(map { $0 == "-" ? "_" : $0 }) }
}
