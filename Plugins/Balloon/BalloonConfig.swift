import QMPPluginKit
import QMPWire

/// `plugins: {balloon: {device: balloon0, driver: virtio-balloon-pci,
/// guest-driver: true, rate-mib-per-second: 1024}}`.
struct BalloonConfig {
    /// A balloon present from start-up (`-device virtio-balloon-pci,id=...`);
    /// none by default: `device_add` then plugs one.
    var device: String?
    var driver = "virtio-balloon-pci"
    /// Whether the guest runs a balloon driver. Without one (a guest with
    /// no OS, as real QEMU idles), `actual` never moves.
    var guestDriver = true
    /// How fast the guest driver inflates or deflates.
    var rateMiBPerSecond: Int64 = 1024

    static let keys: Set<String> = ["device", "driver", "guest-driver", "rate-mib-per-second"]

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "balloon", keys: .expectedOneOf(BalloonConfig.keys)) else { return }
        device = section["device"]?.stringValue
        if let value = section["driver"] {
            guard let name = value.stringValue, BalloonPlugin.drivers.contains(name) else {
                throw PluginError("balloon: 'driver' must be one of \(BalloonPlugin.drivers.joined(separator: ", "))")
            }
            driver = name
        }
        if let flag = try PluginConfig.bool(section, "guest-driver", else: "balloon: 'guest-driver' must be true or false") {
            guestDriver = flag
        }
        if let rate = try PluginConfig.integer(section, "rate-mib-per-second", atLeast: 1,
                                               else: "balloon: 'rate-mib-per-second' must be a positive integer") {
            rateMiBPerSecond = rate
        }
    }
}
