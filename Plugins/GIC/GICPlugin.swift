import QMPPluginKit
import QMPWire

/// The Arm Generic Interrupt Controller's capabilities: query-gic-capabilities
/// (QEMU's `misc-target.json`, built only for Arm targets).
///
/// QEMU for x86 has no such command (CommandNotFound), so an x86 VM must not
/// list this plugin: `vm_create` fails on a VM whose `arch` is not aarch64
/// or arm, rather than start a VM that answers a command it should not have.
///
/// Config keys (`plugins: {gic: ...}`):
/// - `capabilities`: list of `{version: 2|3|4, emulated: bool, kernel: bool}`,
///   answered in that order. Without it: QEMU 7.2's TCG answer (v3 then v2,
///   both emulated, neither in the kernel), or with `kvm: true` on the VM,
///   v3 in the kernel as well.
final class GICPlugin: QMPPlugin {
    static let name = "gic"
    static var schema: [UInt8] { PackageResources.schema_json }
    /// The QEMU targets that have a GIC.
    static let armArchitectures: Set<String> = ["aarch64", "arm"]

    let vm: PluginVM
    let capabilities: [GICCapability]

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        let machine = vm.machine
        let arch = machine.arch
        guard GICPlugin.armArchitectures.contains(arch) else {
            throw PluginError("gic: query-gic-capabilities exists only on Arm machines; VM '\(vm.name)' is \(arch.isEmpty ? "not Arm" : arch) (set arch: aarch64, or remove the gic plugin)")
        }
        capabilities = try GICPlugin.parse(config) ?? (machine.kvm ? GICCapability.kvmDefault : GICCapability.tcgDefault)
    }

    private static func parse(_ config: JSONValue) throws(PluginError) -> [GICCapability]? {
        guard let section = try PluginConfig.section(config, plugin: "gic", keys: .expected(["capabilities"]),
                                                     notAMapping: "expected a mapping with 'capabilities'") else { return nil }
        guard let list = section["capabilities"], !list.isNull else { return nil }
        var result: [GICCapability] = []
        for (i, object) in try PluginConfig.mappings(list, plugin: "gic", key: "capabilities").enumerated() {
            let capability = try GICCapability(config: object, index: i)
            guard !result.contains(where: { $0.version == capability.version }) else {
                throw PluginError("gic: capabilities[\(i)]: version \(capability.version) is listed twice")
            }
            result.append(capability)
        }
        return result
    }

    static func register(_ plugin: PluginRegistry<GICPlugin>) {
        plugin.command(QAPI.QueryGicCapabilitiesCommand.self) { this, _ in .success(.array(this.capabilities.map(\.json))) }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: GICPlugin.self) }
