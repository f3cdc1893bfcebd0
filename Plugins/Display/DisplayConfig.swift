import QMPPluginKit
import QMPWire

/// The plugin's section of a VM's config.
///
/// ```yaml
/// plugins:
///   display: {width: 1024, height: 768, device: video0, tablet: true, vnc: {password: true}}
///   # or, a VM with input devices but no graphic console:
///   display: {enabled: false}
/// ```
struct DisplayConfig {
    /// QEMU's `-vga std` starts at 640x480.
    static let defaultWidth = 640
    static let defaultHeight = 480
    /// Bounds of the simulated surface (QEMU's VGA tops out at 16384 wide).
    static let maxDimension = 16384

    /// False: no graphic console, as `-display none` without a video device.
    var enabled = true
    var width = DisplayConfig.defaultWidth
    var height = DisplayConfig.defaultHeight
    /// The video device's qdev id (`-device VGA,id=video0`), which
    /// screendump's and input-send-event's `device` name; nil as `-vga std`.
    var device: String?
    /// Heads (consoles) of that device.
    var heads = 1
    /// An absolute pointing device (`-device usb-tablet`): without one,
    /// `abs` input events have no handler, as on a plain pc machine.
    var tablet = false
    /// A VNC server (`-vnc ...`): `vnc: {password: true}` is `password=on`,
    /// which set_password needs. None by default, as `-display none`.
    var vnc: VNCServer?

    static let keys: Set<String> = ["enabled", "width", "height", "device", "heads", "tablet", "vnc"]

    init(_ config: JSONValue) throws(PluginError) {
        guard let section = try PluginConfig.section(config, plugin: "display", keys: .expectedOneOf(DisplayConfig.keys)) else { return }
        enabled = section["enabled"]?.boolValue ?? true
        tablet = section["tablet"]?.boolValue ?? false
        device = section["device"]?.stringValue
        width = try DisplayConfig.dimension(section["width"], "width", default: DisplayConfig.defaultWidth)
        height = try DisplayConfig.dimension(section["height"], "height", default: DisplayConfig.defaultHeight)
        heads = try DisplayConfig.dimension(section["heads"], "heads", default: 1)
        if let value = section["vnc"], !value.isNull {
            guard let vncSection = value.objectValue, vncSection.keys.allSatisfy({ $0 == "password" }) else {
                throw PluginError("display: 'vnc' must be a mapping with only 'password' (true or false)")
            }
            vnc = VNCServer(passwordAuth: vncSection["password"]?.boolValue ?? false)
        }
    }

    private static func dimension(_ value: JSONValue?, _ key: String, default fallback: Int) throws(PluginError) -> Int {
        guard let value else { return fallback }
        guard let n = value.int64Value, n >= 1, n <= Int64(maxDimension) else {
            throw PluginError("display: '\(key)' must be an integer from 1 to \(maxDimension)")
        }
        return Int(n)
    }
}
