import QMPPluginABI
import QMPWire

/// What a plugin declares during its `init()`: the object behind the
/// `qmp_plugin_ctx*` the host hands it. It only collects; the loader checks
/// the whole set (schema, bindings, name clashes) once `init()` returns, so a
/// plugin's mistakes are reported together and with its name.
final class PluginRegistration {
    let pluginName: String
    var schemaExpressions: [JSONValue] = []
    var commandHandlers: [String: BoundHandler] = [:]
    var deviceDrivers: [String: DeviceDriver] = [:]
    var objectTypes: [String: DeviceDriver] = [:]
    var guestActions: [String: GuestAction] = [:]
    var hmpInfo: [String: BoundHandler] = [:]
    /// Problems found while registering, reported as one load error.
    var problems: [String] = []

    init(pluginName: String) { self.pluginName = pluginName }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ ctx: OpaquePointer?) -> PluginRegistration? {
        guard let ctx else { return nil }
        return Unmanaged<PluginRegistration>.fromOpaque(UnsafeRawPointer(ctx)).takeUnretainedValue()
    }

    func declareSchema(_ text: UnsafeRawBufferPointer) -> Int32 {
        do {
            let value = try JSONValue(parsing: text)
            guard case .array(let expressions) = value else {
                problems.append("declare_schema: expected a JSON array of QAPI expressions")
                return -1
            }
            schemaExpressions.append(contentsOf: expressions)
            return 0
        } catch {
            problems.append("declare_schema: invalid JSON: \(error.message)")
            return -1
        }
    }

    func bind(command name: String, _ fn: qmp_command_fn, userData: UnsafeMutableRawPointer?) -> Int32 {
        guard commandHandlers[name] == nil else {
            problems.append("command '\(name)' bound twice")
            return -1
        }
        commandHandlers[name] = BoundHandler(fn: fn, userData: userData)
        return 0
    }

    /// Parses a driver or object-type description; nil (with a problem noted) when invalid.
    func parseDescription(_ text: UnsafePointer<CChar>?, kind: String) -> (name: String, description: JSONObject, properties: Set<String>)? {
        guard let text else {
            problems.append("\(kind) without a description")
            return nil
        }
        guard let value = try? JSONValue(parsing: String(cString: text)), let object = value.objectValue,
              let name = object["name"]?.stringValue
        else {
            problems.append("\(kind) description is not a JSON object with a \"name\"")
            return nil
        }
        let properties = Set((object["properties"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        return (name, object, properties)
    }

    func register(driver: qmp_device_driver) -> Int32 {
        guard let (name, description, properties) = parseDescription(driver.description_json, kind: "device driver"),
              let add = driver.add
        else { return -1 }
        guard deviceDrivers[name] == nil else {
            problems.append("device driver '\(name)' registered twice")
            return -1
        }
        deviceDrivers[name] = DeviceDriver(name: name, description: description, propertyNames: properties, add: add, del: driver.del, userData: driver.user_data)
        return 0
    }

    func register(objectType: qmp_object_type) -> Int32 {
        guard let (name, description, properties) = parseDescription(objectType.description_json, kind: "object type"),
              let add = objectType.add
        else { return -1 }
        guard objectTypes[name] == nil else {
            problems.append("object type '\(name)' registered twice")
            return -1
        }
        objectTypes[name] = DeviceDriver(name: name, description: description, propertyNames: properties, add: add, del: objectType.del, userData: objectType.user_data)
        return 0
    }

    func register(hmpInfo name: String, fn: qmp_command_fn, userData: UnsafeMutableRawPointer?) -> Int32 {
        guard hmpInfo[name] == nil else {
            problems.append("HMP 'info \(name)' is registered twice")
            return -1
        }
        hmpInfo[name] = BoundHandler(fn: fn, userData: userData)
        return 0
    }

    func register(guestAction name: String, arguments: String?, fn: qmp_command_fn, userData: UnsafeMutableRawPointer?) -> Int32 {
        var schema: JSONValue = .object([:])
        if let arguments {
            guard let parsed = try? JSONValue(parsing: arguments), parsed.objectValue != nil else {
                problems.append("guest action '\(name)': arguments must be a JSON object of QAPI members")
                return -1
            }
            schema = parsed
        }
        guestActions[name] = GuestAction(name: name, arguments: schema, handler: BoundHandler(fn: fn, userData: userData))
        return 0
    }
}
