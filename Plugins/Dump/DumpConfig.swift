import QMPPluginKit
import QMPWire

/// The plugin's section of a VM's config.
///
/// ```yaml
/// plugins:
///   dump: {bytes-per-step: 33554432, step-ms: 10}
/// ```
/// A dump copies `bytes-per-step` of guest RAM every `step-ms`, so a client
/// can watch query-dump's `completed` grow (QEMU copies as fast as it can;
/// 128 MiB takes it about a tenth of a second).
struct DumpConfig {
    static let defaultBytesPerStep: UInt64 = 32 << 20
    static let defaultStepMilliseconds: UInt64 = 10

    var bytesPerStep = DumpConfig.defaultBytesPerStep
    var stepMilliseconds = DumpConfig.defaultStepMilliseconds

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "dump", keys: .expected(["bytes-per-step", "step-ms"])) else { return }
        if let n = try PluginConfig.integer(section, "bytes-per-step", atLeast: 4096,
                                            else: "dump: 'bytes-per-step' must be an integer of at least 4096") {
            bytesPerStep = UInt64(n)
        }
        if let n = try PluginConfig.integer(section, "step-ms", atLeast: 1, else: "dump: 'step-ms' must be a positive integer") {
            stepMilliseconds = UInt64(n)
        }
    }
}
