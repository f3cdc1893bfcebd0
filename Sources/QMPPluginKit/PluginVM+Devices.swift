import QMPPluginABI
import QMPWire

/// Devices a plugin's config creates, told to the host.
extension PluginVM {
    /// Tells the host that the config created device `id` of `driver` (a
    /// driver this plugin registered), as QEMU's command line creates it:
    /// the host lists it, routes `device_del` to the plugin, and puts a PCI
    /// device on the VM's bus (`properties` may hold `addr`,
    /// `multifunction`, `bus`). Call it from `init(vm:config:)`; a failure
    /// (duplicate id, taken slot) is QEMU's start-up error, so fail the VM
    /// with it. A host without `device_realized` (ABI revision < 5) keeps
    /// no record, as before.
    public func deviceRealized(driver: String, id: String, properties: JSONObject = [:]) -> Result<Void, QMPError> {
        let api = PluginHostLink.api!
        let offset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.device_realized) ?? Int.max
        guard Int(api.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer?>.size,
              let realized = api.pointee.device_realized else { return .success(()) }
        let text = JSONValue.object(properties).jsonText
        // The error buffer on the stack, not a heap array per device.
        let failure: String? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { error in
            error.initialize(repeating: 0)
            // Each string's own bytes (a String passed as `const char *`
            // is copied into a new array first: two per device).
            let rc = driver.withCString { driver in
                id.withCString { id in
                    text.withCString { props in realized(handle, driver, id, props, text.utf8.count, error.baseAddress, error.count) }
                }
            }
            guard rc != 0 else { return nil }
            error[error.count - 1] = 0
            return String(cString: error.baseAddress!)
        }
        guard let failure else { return .success(()) }
        return .failure(.generic(failure))
    }
}
