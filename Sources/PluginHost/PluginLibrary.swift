import QAPISchema
import QMPPluginABI
import QMPWire

/// A device driver a plugin registered for `device_add`/`device_del`.
public struct DeviceDriver {
    public let name: String
    /// The plugin's description object (name, parent, bus, hotpluggable, properties).
    public let description: JSONObject
    public let propertyNames: Set<String>
    package let add: @convention(c) (UnsafeMutableRawPointer?, qmp_request, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Void
    package let del: (@convention(c) (UnsafeMutableRawPointer?, qmp_request, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void)?
    package let userData: UnsafeMutableRawPointer?

    public var isHotpluggable: Bool { description["hotpluggable"]?.boolValue ?? true }
    public var bus: String? { description["bus"]?.stringValue }
}

/// A guest action a plugin registered: something the simulated guest does.
public struct GuestAction {
    public let name: String
    /// The QAPI member map its arguments are checked against.
    public let arguments: JSONValue
    package let handler: BoundHandler
}

/// A plugin function with the user data it was bound with.
public struct BoundHandler {
    package let fn: qmp_command_fn
    package let userData: UnsafeMutableRawPointer?
}

/// A loaded plugin: what it declared during `init()`. One per process, shared
/// by every VM that lists it.
public final class PluginLibrary {
    public let name: String
    public let version: String
    public let path: String
    public let abiVersion: UInt32
    public let schema: SchemaModule
    public let commandHandlers: [String: BoundHandler]
    public let deviceDrivers: [String: DeviceDriver]
    /// QOM object types (object-add), same shape as device drivers.
    public let objectTypes: [String: DeviceDriver]
    public let guestActions: [String: GuestAction]
    /// The HMP `info` commands the plugin prints (`register_hmp_info`), by name.
    public let hmpInfo: [String: BoundHandler]
    let descriptor: UnsafePointer<qmp_plugin_descriptor>

    init(path: String, descriptor: UnsafePointer<qmp_plugin_descriptor>, registration: PluginRegistration, schema: SchemaModule) {
        self.path = path
        self.descriptor = descriptor
        self.name = descriptor.pointee.name.map { String(cString: $0) } ?? "?"
        self.version = descriptor.pointee.version.map { String(cString: $0) } ?? "?"
        self.abiVersion = descriptor.pointee.abi_version
        self.schema = schema
        self.commandHandlers = registration.commandHandlers
        self.deviceDrivers = registration.deviceDrivers
        self.objectTypes = registration.objectTypes
        self.guestActions = registration.guestActions
        self.hmpInfo = registration.hmpInfo
    }

    /// The descriptor of a plugin built before the migration members
    /// (`QMP_PLUGIN_DESCRIPTOR_BASE_SIZE`): still loaded, without them.
    static let descriptorBaseSize = UInt32(MemoryLayout<qmp_plugin_descriptor>.offset(of: \qmp_plugin_descriptor.vm_save_state)!)

    /// A descriptor member added after the base, or nil when the plugin was
    /// built before it existed (its descriptor is shorter).
    private func laterMember<T>(_ member: KeyPath<qmp_plugin_descriptor, T?>) -> T? {
        guard let offset = MemoryLayout<qmp_plugin_descriptor>.offset(of: member),
              Int(descriptor.pointee.struct_size) >= offset + MemoryLayout<T?>.size else { return nil }
        return descriptor.pointee[keyPath: member]
    }

    /// `vm_save_state`, when the plugin migrates state of its own.
    package var saveState: (@convention(c) (UnsafeMutableRawPointer?, qmp_state_sink?, UnsafeMutableRawPointer?) -> Int32)? {
        laterMember(\.vm_save_state)
    }

    /// `vm_load_state`, when the plugin migrates state of its own.
    package var loadState: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<CChar>?, Int) -> Int32)? {
        laterMember(\.vm_load_state)
    }

    /// `query-plugins`' entry.
    public var info: JSONValue {
        [
            "name": .string(name),
            "version": .string(version),
            "abi-version": .int(Int64(abiVersion)),
            "path": .string(path),
            "commands": .array(schema.commandNames.map { .string($0) }),
            "events": .array(schema.eventNames.map { .string($0) }),
            "devices": .array(deviceDrivers.keys.sorted().map { .string($0) }),
            "object-types": .array(objectTypes.keys.sorted().map { .string($0) }),
            "guest-actions": .array(guestActions.keys.sorted().map { .string($0) }),
        ]
    }
}
