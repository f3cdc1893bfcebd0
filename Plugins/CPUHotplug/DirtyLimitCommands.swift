import QMPPluginKit
import QMPWire

/// The per-vCPU dirty page rate limit (`migration.json`, softmmu/dirtylimit.c).
/// QEMU 7.2 limits dirty rates only with KVM's dirty ring
/// (`-accel kvm,dirty-ring-size=N`), which no simulated VM has: setting a
/// limit is refused, none is ever in service, and cancelling is a no-op,
/// as 7.2 answers under TCG and under KVM without a dirty ring.
extension CPUHotplugPlugin {
    static func registerDirtyLimit(_ plugin: PluginRegistry<CPUHotplugPlugin>) {
        plugin.command(QAPI.SetVcpuDirtyLimitCommand.self) { _, _ in
            .failure(.generic("dirty page limit feature requires KVM with accelerator property 'dirty-ring-size' set'"))
        }
        plugin.command(QAPI.CancelVcpuDirtyLimitCommand.self) { _, _ in .success(.object([:])) }
        plugin.command(QAPI.QueryVcpuDirtyLimitCommand.self) { _, _ in .success([]) }
    }
}
