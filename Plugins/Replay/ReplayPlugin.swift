import QMPPluginKit
import QMPWire

/// Record/replay (QEMU's `replay.json`): `query-replay` and the replay
/// debugging commands, as QEMU 7.2 answers them on a VM started without
/// `-icount rr=...`: mode `none`, and the breakpoint and seek commands
/// refused with replay/replay-debugging.c's texts. Recording or replaying
/// an execution log is not simulated, so the plugin takes no settings.
final class ReplayPlugin: QMPPlugin {
    static let name = "replay"
    static var schema: [UInt8] { PackageResources.schema_json }

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        _ = try PluginConfig.section(config, plugin: "replay", keys: .expected([]),
                                     notAMapping: "takes no settings (record/replay is not simulated)")
    }

    static func register(_ plugin: PluginRegistry<ReplayPlugin>) {
        // replay_get_current_icount() is 0 outside record/replay.
        plugin.command(QAPI.QueryReplayCommand.self) { _, _ in .success(["mode": "none", "icount": 0]) }
        plugin.command(QAPI.ReplayBreakCommand.self) { _, _ in
            .failure(.generic("setting the breakpoint is allowed only in play mode"))
        }
        plugin.command(QAPI.ReplayDeleteBreakCommand.self) { _, _ in
            .failure(.generic("replay breakpoints are allowed only in play mode"))
        }
        plugin.command(QAPI.ReplaySeekCommand.self) { _, _ in .failure(.generic("replay must be enabled to seek")) }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: ReplayPlugin.self) }
