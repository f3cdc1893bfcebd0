import QMPPluginABI
import QMPWire

/// Turns a `QMPPlugin` type into the C descriptor the host loads.
///
/// Each plugin library holds exactly one plugin, so the type and the host's
/// table live in per-image globals; the C entry points are plain functions
/// that find them there.
public enum PluginExport {
    nonisolated(unsafe) static var pluginType: (any QMPPlugin.Type)?
    /// `pluginType` as a `SharedConfigurationPlugin`, when it is one: cast
    /// once here rather than for each instance (the conformance lookup
    /// was 0.8 % of making 10,000 VMs).
    nonisolated(unsafe) static var sharedPluginType: (any SharedConfigurationPlugin.Type)?
    /// The host's calls on an instance, bound to `pluginType` (`InstanceCalls`).
    nonisolated(unsafe) static var instanceCalls: InstanceCalls?
    nonisolated(unsafe) static var descriptor: UnsafeMutablePointer<qmp_plugin_descriptor>?
    /// Everything bound at init, kept alive for the process.
    nonisolated(unsafe) static var keptAlive: [AnyObject] = []
    nonisolated(unsafe) static var strings: [UnsafeMutablePointer<CChar>] = []

    /// The descriptor for `P`; call it from the library's `qmp_plugin_entry`.
    public static func descriptor<P: QMPPlugin>(for type: P.Type) -> UnsafeRawPointer {
        if let descriptor { return UnsafeRawPointer(descriptor) }
        pluginType = type
        sharedPluginType = type as? any SharedConfigurationPlugin.Type
        let d = UnsafeMutablePointer<qmp_plugin_descriptor>.allocate(capacity: 1)
        d.initialize(to: qmp_plugin_descriptor())
        d.pointee.abi_version = QMP_PLUGIN_ABI_VERSION
        d.pointee.struct_size = UInt32(MemoryLayout<qmp_plugin_descriptor>.size)
        d.pointee.name = UnsafePointer(cString(P.name))
        d.pointee.version = UnsafePointer(cString(P.version))
        d.pointee.`init` = { api, ctx, err, errLen in
            guard let api, let type = PluginExport.pluginType else { return -1 }
            // The host's table never moves: written once, so a later init (a
            // second loader in the process) never writes what other threads'
            // VMs are reading.
            if PluginHostLink.api != api { PluginHostLink.api = api }
            return PluginExport.initialize(type, api: api, ctx: ctx, err: err, errLen: errLen)
        }
        d.pointee.vm_create = { vm, config, len, instanceOut, err, errLen in
            guard let vm, let type = PluginExport.pluginType else { return -1 }
            return PluginExport.create(type, vm: vm, config: config, length: len, instanceOut: instanceOut, err: err, errLen: errLen)
        }
        let calls = InstanceCalls(type)
        instanceCalls = calls
        d.pointee.vm_destroy = { instance in
            guard let instance, let calls = PluginExport.instanceCalls else { return }
            calls.destroy(Unmanaged<AnyObject>.fromOpaque(instance).takeRetainedValue())
        }
        d.pointee.run_state_changed = { instance, state in
            guard let instance, let state, let calls = PluginExport.instanceCalls else { return }
            calls.runStateChanged(Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue(), String(cString: state))
        }
        d.pointee.reset = { instance in
            guard let instance, let calls = PluginExport.instanceCalls else { return }
            calls.reset(Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue())
        }
        if calls.migration != nil {
            d.pointee.vm_save_state = { instance, sink, opaque in
                guard let instance, let sink, let migration = PluginExport.instanceCalls?.migration else { return -1 }
                let text = migration.saveState(Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue()).jsonText
                text.withCString { sink(opaque, $0, text.utf8.count) }
                return 0
            }
            d.pointee.vm_load_state = { instance, json, length, err, errLen in
                guard let instance, let json, let migration = PluginExport.instanceCalls?.migration else { return -1 }
                do {
                    let state = try JSONValue(parsing: UnsafeRawBufferPointer(start: json, count: length))
                    try migration.loadState(Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue(), state)
                    return 0
                } catch let error as PluginError {
                    return PluginExport.fail(error.message, err, errLen)
                } catch {
                    return PluginExport.fail("saved state is not JSON", err, errLen)
                }
            }
        }
        descriptor = d
        return UnsafeRawPointer(d)
    }

    static func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        strings.append(p)
        return p
    }

    static func fail(_ message: String, _ err: UnsafeMutablePointer<CChar>?, _ errLen: Int) -> Int32 {
        guard let err, errLen > 0 else { return -1 }
        let bytes = Array(message.utf8.prefix(errLen - 1))
        for (i, b) in bytes.enumerated() { err[i] = CChar(bitPattern: b) }
        err[bytes.count] = 0
        return -1
    }

    private static func initialize<P: QMPPlugin>(_ type: P.Type, api: UnsafePointer<qmp_host_api>, ctx: OpaquePointer?,
                                                 err: UnsafeMutablePointer<CChar>?, errLen: Int) -> Int32 {
        let registry = PluginRegistry<P>()
        P.register(registry)
        let schema = QAPIIncludes.expand(P.schema)
        let rc = schema.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { api.pointee.declare_schema(ctx, $0.baseAddress, $0.count) }
        }
        guard rc == 0 else { return fail("declare_schema failed", err, errLen) }
        for (name, box) in registry.commands {
            keptAlive.append(box)
            guard api.pointee.bind_command(ctx, name, commandTrampoline, Unmanaged.passUnretained(box).toOpaque()) == 0 else {
                return fail("bind_command \(name) failed", err, errLen)
            }
        }
        for (name, arguments, box) in registry.guestActions {
            keptAlive.append(box)
            guard api.pointee.register_guest_action(ctx, name, arguments, commandTrampoline, Unmanaged.passUnretained(box).toOpaque()) == 0 else {
                return fail("register_guest_action \(name) failed", err, errLen)
            }
        }
        // A host before revision 8 has no HMP info from plugins: its `info NAME` stays unknown.
        let hmpOffset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.register_hmp_info) ?? Int.max
        if Int(api.pointee.struct_size) >= hmpOffset + MemoryLayout<Int>.size, let registerHMPInfo = api.pointee.register_hmp_info {
            for (name, box) in registry.hmpInfo {
                keptAlive.append(box)
                guard registerHMPInfo(ctx, name, commandTrampoline, Unmanaged.passUnretained(box).toOpaque()) == 0 else {
                    return fail("register_hmp_info \(name) failed", err, errLen)
                }
            }
        }
        for (description, box) in registry.devices {
            guard register(description, box, api: api, ctx: ctx, object: false) == 0 else {
                return fail("register_device_driver failed", err, errLen)
            }
        }
        for (description, box) in registry.objectTypes {
            guard register(description, box, api: api, ctx: ctx, object: true) == 0 else {
                return fail("register_object_type failed", err, errLen)
            }
        }
        return 0
    }

    private static func register(_ description: JSONValue, _ box: DriverBox, api: UnsafePointer<qmp_host_api>, ctx: OpaquePointer?, object: Bool) -> Int32 {
        keptAlive.append(box)
        box.descriptionText = ContiguousArray(description.jsonText.utf8CString)
        let userData = Unmanaged.passUnretained(box).toOpaque()
        return box.descriptionText.withUnsafeBufferPointer { text in
            if object {
                var t = qmp_object_type()
                t.description_json = text.baseAddress
                t.add = driverAddTrampoline
                t.del = box.remove == nil ? nil : driverRemoveTrampoline
                t.user_data = userData
                return api.pointee.register_object_type(ctx, &t)
            }
            var d = qmp_device_driver()
            d.description_json = text.baseAddress
            d.add = driverAddTrampoline
            d.del = box.remove == nil ? nil : driverRemoveTrampoline
            d.user_data = userData
            return api.pointee.register_device_driver(ctx, &d)
        }
    }

    /// The library's settings texts, parsed once each (`SettingsCache`).
    static let settings = SettingsCache()
    /// The library's machine descriptions, parsed once per kind of machine
    /// (`MachineDescriptionCache`).
    static let machines = MachineDescriptionCache()

    private static func create<P: QMPPlugin>(_ type: P.Type, vm: OpaquePointer, config: UnsafePointer<CChar>?, length: Int,
                                             instanceOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                             err: UnsafeMutablePointer<CChar>?, errLen: Int) -> Int32 {
        // No text: every default, as an empty section.
        let text = config.map { UnsafeRawBufferPointer(start: $0, count: length) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        do {
            let plugin: P
            if let shared = sharedPluginType {
                // The shared type is `P` itself: no dynamic cast to get it back.
                plugin = unsafeDowncast(try makeShared(shared, vm: PluginVM(handle: vm), text: config == nil ? nil : text) as AnyObject,
                                        to: P.self)
            } else {
                var value: JSONValue = .object([:])
                if config != nil {
                    do {
                        value = try settings.value(of: text)
                    } catch {
                        return fail("config is not valid JSON: \(error.message)", err, errLen)
                    }
                }
                plugin = try P(vm: PluginVM(handle: vm), config: value)
            }
            instanceOut?.pointee = Unmanaged.passRetained(plugin as AnyObject).toOpaque()
            return 0
        } catch {
            return fail(error.message, err, errLen)
        }
    }

    /// An instance of a plugin with shared settings: decoded once per text.
    private static func makeShared<S: SharedConfigurationPlugin>(_ type: S.Type, vm: PluginVM,
                                                                 text: UnsafeRawBufferPointer?) throws(PluginError) -> S {
        guard let text else { return try S(vm: vm, configuration: S.configuration(from: .object([:]))) }
        let configuration = try settings.configuration(of: text, as: S.Configuration.self) { value throws(PluginError) in
            try S.configuration(from: value)
        }
        return try S(vm: vm, configuration: configuration)
    }

    /// The object the host passed (a request's arguments, a device's
    /// properties); nil when the text is not one. `{}` (a request without
    /// arguments, most queries) is not parsed.
    static func parseObject(_ text: UnsafePointer<CChar>?, _ length: Int) -> JSONObject? {
        guard let text else { return nil }
        let bytes = UnsafeRawBufferPointer(start: text, count: length)
        if length == 2 && bytes[0] == UInt8(ascii: "{") && bytes[1] == UInt8(ascii: "}") { return JSONObject() }
        return (try? JSONValue(parsing: bytes))?.objectValue
    }

    /// A request whose text is not an object is a host bug: answered
    /// with an error, never run with arguments made up.
    static let notAnObject = QMPError.generic("The plugin received arguments that are not a JSON object")

    /// Borrows the plugin instance and the handler the host passes back
    /// (`_withUnsafeGuaranteedRef`: both live as long as the library, or
    /// the instance's VM, and the host holds them for the call), so a
    /// request costs no retain and release of either.
    private static let commandTrampoline: qmp_command_fn = { instance, token, args, length, userData in
        guard let instance, let userData else { return }
        Unmanaged<AnyObject>.fromOpaque(instance)._withUnsafeGuaranteedRef { plugin in
            Unmanaged<HandlerBox>.fromOpaque(userData)._withUnsafeGuaranteedRef { box in
                // `{}` (a request without arguments, most queries): nothing to parse or order.
                if length == 2, let args, args[0] == CChar(UInt8(ascii: "{")), args[1] == CChar(UInt8(ascii: "}")) {
                    return box.body(plugin, JSONObject(), Reply(token: token))
                }
                guard let arguments = PluginExport.parseObject(args, length) else { return Reply(token: token).failure(notAnObject) }
                // ABI 2: the client's text, in the client's member order. Handlers
                // see QEMU's order, as the host's text gave it (and QEMU walks it).
                box.body(plugin, QDictOrder.inIterationOrder(.object(arguments)).objectValue ?? arguments, Reply(token: token))
            }
        }
    }

    private static let driverAddTrampoline: @convention(c) (UnsafeMutableRawPointer?, qmp_request, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Void = { instance, token, id, props, length, userData in
        guard let instance, let userData else { return }
        let plugin = Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue()
        let box = Unmanaged<DriverBox>.fromOpaque(userData).takeUnretainedValue()
        guard let properties = PluginExport.parseObject(props, length) else { return Reply(token: token).failure(notAnObject) }
        box.add(plugin, id.map { String(cString: $0) }, properties, Reply(token: token))
    }

    private static let driverRemoveTrampoline: @convention(c) (UnsafeMutableRawPointer?, qmp_request, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { instance, token, id, userData in
        guard let instance, let userData, let id else { return }
        let plugin = Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue()
        let box = Unmanaged<DriverBox>.fromOpaque(userData).takeUnretainedValue()
        let reply = Reply(token: token)
        switch box.remove?(plugin, String(cString: id)) ?? .failure(.generic("Device does not support unplug")) {
        case .success: reply.success()
        case .failure(let error): reply.failure(error)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
