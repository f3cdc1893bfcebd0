import QMPPluginABI
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// The function table plugins call (`qmp_host_api`). Each entry is a C
/// function that finds the Swift object behind the handle it is given and
/// does the work there; none of them trusts the plugin's input.
enum HostAPI {
    /// One table per ABI version, the same functions in each: a plugin
    /// built for ABI 1 may check that the table says 1. Allocated once and
    /// never written again: plugins keep the pointer and read it from every
    /// loop thread of a sharded fleet.
    nonisolated(unsafe) private static let tables: [UnsafePointer<qmp_host_api>] =
        (QMP_PLUGIN_ABI_MIN_VERSION...QMP_PLUGIN_ABI_VERSION).map { version in
            let table = UnsafeMutablePointer<qmp_host_api>.allocate(capacity: 1)
            table.initialize(to: makeTable(abiVersion: version))
            return UnsafePointer(table)
        }

    /// The table for a plugin whose descriptor says `version` (one the
    /// loader accepted).
    static func table(forABI version: UInt32) -> UnsafePointer<qmp_host_api> {
        tables[Int(version - QMP_PLUGIN_ABI_MIN_VERSION)]
    }

    /// The current version's table.
    static var table: UnsafePointer<qmp_host_api> { table(forABI: QMP_PLUGIN_ABI_VERSION) }

    private static func makeTable(abiVersion: UInt32) -> qmp_host_api {
        var api = qmp_host_api()
        api.abi_version = abiVersion
        api.struct_size = UInt32(MemoryLayout<qmp_host_api>.size)

        api.declare_schema = { ctx, text, len in
            guard let registration = PluginRegistration.from(ctx), let text else { return -1 }
            return registration.declareSchema(UnsafeRawBufferPointer(start: text, count: len))
        }
        api.bind_command = { ctx, name, fn, userData in
            guard let registration = PluginRegistration.from(ctx), let name, let fn else { return -1 }
            return registration.bind(command: String(cString: name), fn, userData: userData)
        }
        api.register_device_driver = { ctx, driver in
            guard let registration = PluginRegistration.from(ctx), let driver else { return -1 }
            return registration.register(driver: driver.pointee)
        }
        api.register_object_type = { ctx, type in
            guard let registration = PluginRegistration.from(ctx), let type else { return -1 }
            return registration.register(objectType: type.pointee)
        }
        api.register_guest_action = { ctx, name, arguments, fn, userData in
            guard let registration = PluginRegistration.from(ctx), let name, let fn else { return -1 }
            return registration.register(guestAction: String(cString: name), arguments: arguments.map { String(cString: $0) }, fn: fn, userData: userData)
        }
        api.register_hmp_info = { ctx, name, fn, userData in
            guard let registration = PluginRegistration.from(ctx), let name, let fn else { return -1 }
            return registration.register(hmpInfo: String(cString: name), fn: fn, userData: userData)
        }

        api.reply = { token, text, len in
            HostAPI.answer(token, what: "reply") { instance, command in
                HostAPI.reply(text.map { UnsafeRawBufferPointer(start: $0, count: len) }, of: instance, to: command)
            }
        }
        api.reply_error = { token, errorClass, desc in
            HostAPI.answer(token, what: "reply_error") { _, _ in
                QMPReply.failure(QMPError(QMPErrorClass(abi: errorClass), desc.map { String(cString: $0) } ?? "Unknown error"))
            }
        }

        api.emit_event = { handle, name, data, len in
            guard let instance = PluginInstance.from(handle, "emit_event"), let name else { return }
            instance.emitEvent(String(cString: name), data: data.map { UnsafeRawBufferPointer(start: $0, count: len) })
        }

        api.now_ms = { handle in
            PluginInstance.from(handle, "now_ms")?.vm?.scheduler.nowMilliseconds ?? 0
        }
        api.timer_start = { handle, delay, repeatEvery, fn, opaque in
            guard let instance = PluginInstance.from(handle, "timer_start"), let fn else { return 0 }
            return instance.startTimer(delay: delay, repeatEvery: repeatEvery, fn: fn, opaque: opaque)
        }
        api.timer_cancel = { handle, timer in
            PluginInstance.from(handle, "timer_cancel")?.cancelTimer(timer)
        }

        api.vm_name = { handle in
            guard let vm = PluginInstance.from(handle, "vm_name")?.vm else { return nil }
            return vm.nameCString.withUnsafeBufferPointer { $0.baseAddress }
        }
        api.vm_run_state = { handle in
            PluginInstance.from(handle, "vm_run_state")?.vm?.runStateCString
        }
        api.vm_machine_json = { handle in
            guard let vm = PluginInstance.from(handle, "vm_machine_json")?.vm else { return nil }
            return vm.machineJSONText.withUnsafeBufferPointer { $0.baseAddress }
        }
        api.vm_machine_json_shared = { handle in
            guard let vm = PluginInstance.from(handle, "vm_machine_json_shared")?.vm else { return nil }
            return vm.sharedMachineJSONText.withUnsafeBufferPointer { $0.baseAddress }
        }
        api.vm_vcpu_thread_ids = { handle, ids, capacity in
            guard let vm = PluginInstance.from(handle, "vm_vcpu_thread_ids")?.vm else { return 0 }
            let count = vm.possibleVCPUCount
            if let ids {
                for index in 0..<min(count, Int(clamping: capacity)) { ids[index] = Int64(vm.vcpuThreadID(index)) }
            }
            return count
        }
        api.vm_stop = { handle, reason in
            PluginInstance.from(handle, "vm_stop")?.vm?.pluginStop(reason: reason.map { String(cString: $0) })
        }
        api.device_deleted = { handle, id in
            guard let vm = PluginInstance.from(handle, "device_deleted")?.vm, let id else { return }
            vm.deviceReleased(idOrPath: String(cString: id))
        }
        api.open_file = { handle, path, flags, mode, err, errLen in
            guard let instance = PluginInstance.from(handle, "open_file"), let vm = instance.vm, let path else {
                HostAPI.copy("open_file was refused: called from a thread other than its VM's loop thread, or for a VM that has ended", to: err, length: errLen)
                return -1
            }
            switch vm.openFile(String(cString: path), flags: flags, mode: mode_t(truncatingIfNeeded: mode)) {
            case .success(let fd):
                return fd
            case .failure(let error):
                HostAPI.copy(error.desc, to: err, length: errLen)
                return -1
            }
        }
        api.log = { handle, level, message in
            guard let message else { return }
            let text = String(cString: message)
            // Any thread may log; only the loop thread uses the VM's logger.
            let logger = PluginHandles.instance(for: handle)?.logger ?? PluginHostLogger.process
            switch level {
            case QMP_LOG_DEBUG: logger.debug("\(text)")
            case QMP_LOG_INFO: logger.info("\(text)")
            case QMP_LOG_WARNING: logger.warning("\(text)")
            default: logger.error("\(text)")
            }
        }
        api.fd_watch = { handle, fd, events, fn, opaque in
            guard let instance = PluginInstance.from(handle, "fd_watch"), let fn else { return 0 }
            return instance.watch(fd: fd, events: events, fn: fn, opaque: opaque)
        }
        api.fd_watch_update = { handle, watch, events in
            PluginInstance.from(handle, "fd_watch_update")?.updateWatch(watch, events: events)
        }
        api.fd_unwatch = { handle, watch in
            PluginInstance.from(handle, "fd_unwatch")?.unwatch(watch)
        }
        api.work_queue = { handle, work, done, opaque in
            guard let instance = PluginInstance.from(handle, "work_queue", duringDestroy: true), let work, let done else { return -1 }
            instance.queueWork(work, done: done, opaque: opaque)
            return 0
        }
        api.fd_transfer = { handle, fd, direction, buffer, length, done, opaque in
            guard let instance = PluginInstance.from(handle, "fd_transfer"), let done else { return -1 }
            return instance.transfer(fd: fd, direction: direction, buffer: buffer, length: length, done: done, opaque: opaque)
        }
        api.device_realized = { handle, driver, id, text, len, err, errLen in
            guard let instance = PluginInstance.from(handle, "device_realized"), let vm = instance.vm,
                  let driver, let id else { return -1 }
            var properties = JSONObject()
            if let text, len > 0 {
                guard let parsed = RealizedProperties.object(of: UnsafeRawBufferPointer(start: text, count: len)) else {
                    HostAPI.copy("device properties are not a JSON object", to: err, length: errLen)
                    return -1
                }
                properties = parsed
            }
            let result = vm.realizeConfiguredDevice(driver: String(cString: driver), id: String(cString: id),
                                                    properties: properties, owner: instance.library)
            guard case .failure(let error) = result else { return 0 }
            HostAPI.copy(error.desc, to: err, length: errLen)
            return -1
        }
        api.open_file_async = { handle, token, path, flags, mode, done, opaque in
            guard let instance = PluginInstance.from(handle, "open_file_async"), let path, let done else { return -1 }
            return instance.openFile(String(cString: path), flags: flags, mode: mode_t(truncatingIfNeeded: mode), request: token, done: done, opaque: opaque)
        }
        api.request_qom_path = { token in PendingRequests.current.qomPath(of: token) }
        api.vm_save_device_state = { handle, sink, opaque in
            guard let vm = PluginInstance.from(handle, "vm_save_device_state")?.vm, let sink,
                  case .success(let state) = vm.saveDeviceState() else { return -1 }
            let text = state.jsonText
            text.withCString { sink(opaque, $0, text.utf8.count) }
            return 0
        }
        api.vm_load_device_state = { handle, text, len, err, errLen in
            guard let vm = PluginInstance.from(handle, "vm_load_device_state")?.vm, let text else { return -1 }
            let result: Result<Void, QMPError>
            do throws(JSONParseError) {
                result = vm.loadDeviceState(try JSONValue(parsing: UnsafeRawBufferPointer(start: text, count: len)))
            } catch {
                result = .failure(.generic("device state is not JSON: \(error.message)"))
            }
            guard case .failure(let error) = result else { return 0 }
            HostAPI.copy(error.desc, to: err, length: errLen)
            return -1
        }
        api.vm_set_run_state = { handle, name in
            guard let vm = PluginInstance.from(handle, "vm_set_run_state")?.vm, let name,
                  vm.pluginSetRunState(named: String(cString: name)) else { return -1 }
            return 0
        }
        api.vm_autostart = { handle in
            PluginInstance.from(handle, "vm_autostart")?.vm?.autostart == true ? 1 : 0
        }
        api.vm_exit = { handle in
            PluginInstance.from(handle, "vm_exit")?.vm?.pluginRequestedExit()
        }
        return api
    }

    /// Writes `text` as a NUL-terminated C string into a plugin's buffer,
    /// cut to fit.
    fileprivate static func copy(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, length: Int) {
        guard let buffer, length > 0 else { return }
        let bytes = Array(text.utf8.prefix(length - 1))
        for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
        buffer[bytes.count] = 0
    }

    /// Gives request `token` the answer `make` builds (a plugin's `reply`
    /// or `reply_error`), or logs a token that is unknown, answered already
    /// or not this thread's.
    fileprivate static func answer(_ token: qmp_request, what: StaticString,
                                   _ make: (_ instance: PluginInstance, _ command: String) -> QMPReply) {
        guard !PendingRequests.withCurrent({ $0.answer(token, make) }) else { return }
        PluginHostLogger.process.warning("plugin called \(what) for request \(token), which is unknown, already answered or not its VM's thread's; ignored")
    }

    /// A plugin's reply text as the client's answer. Text already in QEMU's
    /// form (what QMPPluginKit's writer makes) goes to the client as it is
    /// (the instance's kept copy when it is the same bytes again); any other
    /// is parsed and rewritten.
    fileprivate static func reply(_ text: UnsafeRawBufferPointer?, of instance: PluginInstance, to command: String) -> QMPReply {
        guard let text else {
            return .failure(.generic("Plugin '\(instance.library.name)' replied to '\(command)' without a value"))
        }
        if let canonical = instance.canonicalReply(text) { return .encoded(canonical) }
        do throws(JSONParseError) {
            return .success(try JSONValue(parsing: text))
        } catch {
            instance.logger.error("plugin replied to \(command) with invalid JSON: \(error.message)")
            return .failure(.generic("Plugin '\(instance.library.name)' replied to '\(command)' with invalid JSON"))
        }
    }
}

extension QMPErrorClass {
    /// The class a plugin named; an unknown value is a GenericError.
    init(abi: qmp_error_class) {
        switch abi {
        case QMP_ERROR_COMMAND_NOT_FOUND: self = .commandNotFound
        case QMP_ERROR_DEVICE_NOT_ACTIVE: self = .deviceNotActive
        case QMP_ERROR_DEVICE_NOT_FOUND: self = .deviceNotFound
        case QMP_ERROR_KVM_MISSING_CAP: self = .kvmMissingCap
        default: self = .genericError
        }
    }
}

extension PluginInstance {
    /// A plugin's event: only events it declared; data must be an object.
    func emitEvent(_ name: String, data: UnsafeRawBufferPointer?) {
        guard let vm else { return }
        guard library.schema.event(name) != nil else {
            logger.warning("plugin emitted undeclared event \(name); dropped")
            return
        }
        guard let data else { return vm.emitPluginEvent(name, data: nil) }
        // Data already in QEMU's form is the event's bytes as it is.
        if data.first == UInt8(ascii: "{"), let canonical = CanonicalJSON(validating: data) {
            return vm.emitPluginEvent(name, encodedData: canonical)
        }
        guard let value = try? JSONValue(parsing: data), let object = value.objectValue else {
            logger.warning("plugin emitted \(name) with data that is not a JSON object; dropped")
            return
        }
        vm.emitPluginEvent(name, data: object)
    }
}
