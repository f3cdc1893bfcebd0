import QMPPluginKit
import QMPWire

/// The migration capabilities of QEMU 7.2 (`MigrationCapability`), all off
/// at start, in declaration order.
struct MigrationCapabilities {
    static let names = [
        "xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks", "compress", "events", "postcopy-ram",
        "x-colo", "release-ram", "block", "return-path", "pause-before-switchover", "multifd",
        "dirty-bitmaps", "postcopy-blocktime", "late-block-activate", "x-ignore-shared", "validate-uuid",
        "background-snapshot", "zero-copy-send", "postcopy-preempt",
    ]

    private var enabled: Set<String> = []

    func isEnabled(_ name: String) -> Bool { enabled.contains(name) }

    var list: JSONValue {
        .array(MigrationCapabilities.names.map { ["capability": .string($0), "state": .bool(enabled.contains($0))] })
    }

    /// migrate-set-capabilities: every listed state, in order (QEMU's checks
    /// between capabilities pass for the combinations a VM without a
    /// migration in flight accepts).
    mutating func apply(_ capabilities: [QAPI.MigrationCapabilityStatus]) {
        for item in capabilities {
            let name = item.capability.rawValue
            if item.state { enabled.insert(name) } else { enabled.remove(name) }
        }
    }
}
