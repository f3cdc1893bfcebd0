import QAPIRuntime
import QMPWire

/// `query-stats` and `query-stats-schemas` (QEMU's `stats.json`).
///
/// QEMU 7.2's only statistics provider is KVM: the kernel's own counters
/// for the VM and each vCPU (exits, halt polling, TLB flushes). A simulated
/// vCPU has no kernel counters, so no provider is registered and both
/// commands list nothing, as QEMU 7.2 does under TCG (checked: `[]` for
/// either target, with or without a `providers` filter).
enum StatsQueries {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryStatsCommand.self) { _, args in .success(.array(providers.map(\.results))) },
        .immediate(QAPI.QueryStatsSchemasCommand.self) { _, args in .success(.array(providers.map(\.schema))) },
    ]

    /// A source of statistics with its schema (none yet, see above).
    struct Provider {
        let results: JSONValue
        let schema: JSONValue
    }

    static let providers: [Provider] = []
}
