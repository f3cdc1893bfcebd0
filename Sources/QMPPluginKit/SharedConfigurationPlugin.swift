import QMPWire

/// A plugin whose settings become one immutable value, decoded once per
/// distinct settings text and shared by every instance made from it.
///
/// A template's 10,000 VMs hand the plugin the same section; a plugin that
/// reads it into a value (its drives, its serial ports) decodes and checks
/// it once, and each instance keeps a copy that shares its storage. The
/// instance still makes its own state from it (a drive's image, a serial
/// port's buffer): only what the text alone decides is shared.
///
/// ```swift
/// final class DumpPlugin: SharedConfigurationPlugin {
///     static func configuration(from config: JSONValue) throws(PluginError) -> DumpConfig { try DumpConfig(config) }
///     init(vm: PluginVM, configuration: DumpConfig) throws(PluginError) { ... }
/// }
/// ```
public protocol SharedConfigurationPlugin: QMPPlugin {
    /// The decoded settings: a value type, read by instances on any loop.
    associatedtype Configuration: Sendable
    /// Decodes and checks a VM's section (`config` as `init(vm:config:)`
    /// would get it); its error stops the VM, as the instance's would.
    static func configuration(from config: JSONValue) throws(PluginError) -> Configuration
    /// The plugin's state for one VM, from its decoded settings.
    init(vm: PluginVM, configuration: Configuration) throws(PluginError)
}

extension SharedConfigurationPlugin {
    /// Decodes `config` for this instance alone (the kit's `vm_create` goes
    /// through its cache instead).
    public init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        try self.init(vm: vm, configuration: Self.configuration(from: config))
    }
}
