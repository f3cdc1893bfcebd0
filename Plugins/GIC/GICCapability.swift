import QMPPluginKit
import QMPWire

/// One GIC version the machine could use: emulated by QEMU, accelerated by
/// the host kernel (KVM's in-kernel irqchip), or both.
struct GICCapability: Equatable {
    var version: Int64
    var emulated: Bool
    var kernel: Bool

    /// QEMU 7.2's answer under TCG: both versions emulated, none in the
    /// kernel, v3 listed first (it prepends v2, then v3).
    static let tcgDefault = [
        GICCapability(version: 3, emulated: true, kernel: false),
        GICCapability(version: 2, emulated: true, kernel: false),
    ]

    /// Under KVM on a GICv3 host the kernel provides v3 (and no v2 emulation
    /// of the in-kernel kind).
    static let kvmDefault = [
        GICCapability(version: 3, emulated: true, kernel: true),
        GICCapability(version: 2, emulated: true, kernel: false),
    ]

    /// The GIC versions QEMU knows about.
    static let knownVersions: ClosedRange<Int64> = 2...4

    var json: JSONValue {
        ["version": .int(version), "emulated": .bool(emulated), "kernel": .bool(kernel)]
    }

    /// A config entry: `{version: 3, emulated: true, kernel: false}`.
    init(config object: JSONObject, index: Int) throws(PluginError) {
        for key in object.keys where !["version", "emulated", "kernel"].contains(key) {
            throw PluginError("gic: capabilities[\(index)]: unknown key '\(key)' (expected 'version', 'emulated', 'kernel')")
        }
        guard let version = object["version"]?.int64Value, GICCapability.knownVersions.contains(version) else {
            throw PluginError("gic: capabilities[\(index)]: 'version' must be 2, 3 or 4")
        }
        self.version = version
        emulated = object["emulated"]?.boolValue ?? false
        kernel = object["kernel"]?.boolValue ?? false
    }

    init(version: Int64, emulated: Bool, kernel: Bool) {
        self.version = version
        self.emulated = emulated
        self.kernel = kernel
    }
}
