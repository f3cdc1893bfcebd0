import QMPPluginKit
import QMPWire

/// The bounds of one VM's migration streams, from the plugin's config.
///
/// Config keys (`plugins: {migration: {...}}`):
/// - `stream-outbox-bytes`: bytes queued to the socket before the sender
///   waits for it to drain (default 1 MiB).
/// - `max-section-bytes`: the largest record a target accepts, which bounds
///   the device state (default 16 MiB); a larger one fails the migration.
struct MigrationLimits {
    static let outboxRange: ClosedRange<Int64> = 4096...(256 << 20)
    static let sectionRange: ClosedRange<Int64> = Int64(MigrationStream.ramChunkBytes + 8)...(1 << 30)

    var outboxBytes = 1 << 20
    var maximumRecordBytes = 16 << 20

    static let keys = ["stream-outbox-bytes", "max-section-bytes"]

    init() {}

    init(config: JSONValue) throws(PluginError) {
        if let v = config["stream-outbox-bytes"] {
            guard let n = v.int64Value, MigrationLimits.outboxRange.contains(n) else {
                throw PluginError("migration: stream-outbox-bytes must be an integer in \(MigrationLimits.outboxRange)")
            }
            outboxBytes = Int(n)
        }
        if let v = config["max-section-bytes"] {
            guard let n = v.int64Value, MigrationLimits.sectionRange.contains(n) else {
                throw PluginError("migration: max-section-bytes must be an integer in \(MigrationLimits.sectionRange)")
            }
            maximumRecordBytes = Int(n)
        }
    }
}
