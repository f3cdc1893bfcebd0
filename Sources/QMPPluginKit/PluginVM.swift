import QMPPluginABI
import QMPWire

/// A plugin's view of the VM it serves: events, timers, run state, machine
/// description, device release, files, logging. Everything goes through the
/// host's function table; nothing here is shared between VMs.
public final class PluginVM {
    let handle: OpaquePointer
    private var timers: [UInt64: TimerBox] = [:]
    private var fdWatches: [UInt64: FDWatchBox] = [:]

    init(handle: OpaquePointer) { self.handle = handle }

    private var api: UnsafePointer<qmp_host_api> { PluginHostLink.api! }

    /// The VM's name.
    public var name: String { api.pointee.vm_name(handle).map { String(cString: $0) } ?? "" }

    /// QEMU's RunState name: "prelaunch", "running", "paused", ...
    public var runState: String { api.pointee.vm_run_state(handle).map { String(cString: $0) } ?? "" }

    public var isRunning: Bool { runState == "running" }

    /// The machine, typed (`PluginVM.Machine`): type, arch, RAM, memory
    /// slots, max memory, KVM, CPU model, vCPU thread ids, SMP topology,
    /// QEMU version.
    ///
    /// Read from the host's text on each access, not kept: read what you
    /// need once (in `init`). A copy kept by each plugin of each VM would
    /// cost a 10,000-VM fleet tens of MB. The text is parsed whole once per
    /// kind of machine (`MachineDescriptionCache`); each VM's own reading
    /// is its vCPU thread ids.
    ///
    /// From a host of revision 9 it reads its kind of machine's text (with
    /// no ids, shared by the VMs of that kind) and the ids apart, so the
    /// host keeps no text of this VM's own.
    public var machine: Machine {
        if let shared = sharedMachineText {
            var machine = Self.machine(of: shared)
            machine.vcpuThreadIDs = vcpuThreadIDs
            return machine
        }
        guard let text = api.pointee.vm_machine_json(handle) else { return Machine(description: .object([:])) }
        return Self.machine(of: text)
    }

    /// A description's `Machine`, parsed whole once per kind of machine
    /// (`MachineDescriptionCache`). Read from the bytes: a String of them
    /// first was a copy and a UTF-8 check more, for each of the plugins
    /// that read it as each VM starts.
    private static func machine(of text: UnsafePointer<CChar>) -> Machine {
        PluginExport.machines.machine(of: UnsafeRawBufferPointer(start: text, count: strlen(text))) { bytes in
            Machine(description: (try? JSONValue(parsing: bytes)) ?? .object([:]))
        }
    }

    /// `vm_machine_json_shared` (revision 9); nil from an older host.
    private var sharedMachineText: UnsafePointer<CChar>? {
        let offset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.vm_vcpu_thread_ids) ?? Int.max
        guard Int(api.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer?>.size,
              api.pointee.vm_vcpu_thread_ids != nil, let fn = api.pointee.vm_machine_json_shared else { return nil }
        return fn(handle)
    }

    /// `vm_vcpu_thread_ids` (revision 9; `sharedMachineText` checked it is there).
    private var vcpuThreadIDs: [Int64] {
        guard let fn = api.pointee.vm_vcpu_thread_ids else { return [] }
        let count = fn(handle, nil, 0)
        return [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = fn(handle, buffer.baseAddress, count) < count ? 0 : count
        }
    }

    /// Milliseconds on the VM's clock (virtual in tests).
    public var nowMilliseconds: UInt64 { api.pointee.now_ms(handle) }

    /// Sends an event the plugin declared to every client of the VM.
    public func emit(_ event: String, _ data: JSONObject? = nil) {
        if let data {
            // Written as QEMU writes it, the text becomes the event as it is (`CanonicalJSON`).
            JSONValue.object(data).jsonBytes().withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { api.pointee.emit_event(handle, event, $0.baseAddress, $0.count) }
            }
        } else {
            api.pointee.emit_event(handle, event, nil, 0)
        }
    }

    /// Runs `body` after `delay` ms, then every `repeatEvery` ms if that is not 0.
    @discardableResult
    public func startTimer(afterMilliseconds delay: UInt64, repeatEvery: UInt64 = 0, _ body: @escaping () -> Void) -> TimerID {
        let box = TimerBox(body: body, repeats: repeatEvery > 0)
        let opaque = Unmanaged.passUnretained(box).toOpaque()
        let id = api.pointee.timer_start(handle, delay, repeatEvery, PluginVM.timerTrampoline, opaque)
        guard id != 0 else { return TimerID(raw: 0) }
        box.id = id
        box.owner = self
        timers[id] = box
        return TimerID(raw: id)
    }

    public func cancelTimer(_ timer: TimerID) {
        guard timer.raw != 0 else { return }
        api.pointee.timer_cancel(handle, timer.raw)
        timers[timer.raw] = nil
    }

    fileprivate func timerFired(_ box: TimerBox) {
        if !box.repeats { timers[box.id] = nil }
    }

    private static let timerTrampoline: qmp_timer_fn = { _, opaque in
        guard let opaque else { return }
        let box = Unmanaged<TimerBox>.fromOpaque(opaque).takeUnretainedValue()
        box.owner?.timerFired(box)
        box.body()
    }

    /// Calls `body` with QMP_FD_* bits whenever `fd` is ready for `events`
    /// (readable by default). The fd stays yours: unwatch before closing it.
    /// Returns nil when the host cannot watch fds (an in-process test fleet).
    public func watch(fd: Int32, events: FDEvents = .readable, _ body: @escaping (FDEvents) -> Void) -> FDWatchID? {
        guard let watchFn = api.pointee.fd_watch else { return nil }
        let box = FDWatchBox(body: body)
        let id = watchFn(handle, fd, events.rawValue, PluginVM.fdTrampoline, Unmanaged.passUnretained(box).toOpaque())
        guard id != 0 else { return nil }
        fdWatches[id] = box
        return FDWatchID(raw: id)
    }

    public func updateWatch(_ watch: FDWatchID, events: FDEvents) {
        api.pointee.fd_watch_update?(handle, watch.raw, events.rawValue)
    }

    public func unwatch(_ watch: FDWatchID) {
        api.pointee.fd_unwatch?(handle, watch.raw)
        fdWatches[watch.raw] = nil
    }

    private static let fdTrampoline: qmp_fd_fn = { _, _, events, opaque in
        guard let opaque else { return }
        Unmanaged<FDWatchBox>.fromOpaque(opaque).takeUnretainedValue().body(FDEvents(rawValue: events))
    }

    /// The simulated guest released device `id`: DEVICE_DELETED follows.
    public func deviceDeleted(_ id: String) { api.pointee.device_deleted(handle, id) }

    /// Stops the VM as QEMU does by itself (reason: a RunState such as "io-error").
    public func stop(reason: String) { api.pointee.vm_stop(handle, reason) }

    /// Opens a client-named file: a path under the allowed directories,
    /// `/dev/fdset/N`, or `fd:NAME`. The error is QEMU's text.
    public func openFile(_ path: String, flags: Int32, mode: UInt32 = 0o600) -> Result<Int32, QMPError> {
        var error = [CChar](repeating: 0, count: 256)
        let fd = api.pointee.open_file(handle, path, flags, Int32(mode), &error, error.count)
        if fd >= 0 { return .success(fd) }
        return .failure(.generic(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
    }

    // MARK: Live migration (host functions added to ABI 1 later)

    /// Whether the host has the migration functions (an older host has not).
    public var canMigrate: Bool {
        Int(api.pointee.struct_size) >= MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.vm_exit)! + MemoryLayout<UnsafeRawPointer>.size
            && api.pointee.vm_exit != nil
    }

    /// Every migratable plugin's device state and the host's bookkeeping of
    /// their devices, as one JSON object (`vm_save_device_state`).
    public func saveDeviceState() -> Result<JSONValue, QMPError> {
        guard canMigrate, let save = api.pointee.vm_save_device_state else { return .failure(.generic("the host cannot save device state")) }
        final class Sink { var value: JSONValue? }
        let sink = Sink()
        let rc = save(handle, { opaque, json, len in
            guard let opaque, let json else { return }
            Unmanaged<Sink>.fromOpaque(opaque).takeUnretainedValue().value =
                try? JSONValue(parsing: UnsafeRawBufferPointer(start: json, count: len))
        }, Unmanaged.passUnretained(sink).toOpaque())
        guard rc == 0, let value = sink.value else { return .failure(.generic("a plugin could not save its device state")) }
        return .success(value)
    }

    /// Loads what `saveDeviceState` gave on the source VM.
    public func loadDeviceState(_ state: JSONValue) -> Result<Void, QMPError> {
        guard canMigrate, let load = api.pointee.vm_load_device_state else { return .failure(.generic("the host cannot load device state")) }
        var error = [CChar](repeating: 0, count: 512)
        let text = state.jsonText
        let rc = text.withCString { load(handle, $0, text.utf8.count, &error, error.count) }
        if rc == 0 { return .success(()) }
        return .failure(.generic(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
    }

    /// Moves the VM to a RunState as QEMU's migration code does (STOP on
    /// leaving running, RESUME on entering it).
    public func setRunState(_ state: String) {
        guard canMigrate else { return }
        _ = api.pointee.vm_set_run_state(handle, state)
    }

    /// QEMU's `autostart`: the VM runs by itself after an incoming migration.
    public var autostart: Bool { canMigrate && api.pointee.vm_autostart(handle) != 0 }

    /// Ends the VM as an exiting QEMU process would, after the current callback.
    public func exit() {
        guard canMigrate else { return }
        api.pointee.vm_exit(handle)
    }

    public enum LogLevel { case debug, info, warning, error }

    public func log(_ level: LogLevel, _ message: String) {
        let abi: qmp_log_level
        switch level {
        case .debug: abi = QMP_LOG_DEBUG
        case .info: abi = QMP_LOG_INFO
        case .warning: abi = QMP_LOG_WARNING
        case .error: abi = QMP_LOG_ERROR
        }
        api.pointee.log(handle, abi, message)
    }
}

/// A timer started with `PluginVM.startTimer`.
public struct TimerID: Hashable, Sendable {
    let raw: UInt64
    public var isValid: Bool { raw != 0 }
}

final class TimerBox {
    let body: () -> Void
    let repeats: Bool
    var id: UInt64 = 0
    weak var owner: PluginVM?
    init(body: @escaping () -> Void, repeats: Bool) {
        self.body = body
        self.repeats = repeats
    }
}

/// An fd watch started with `PluginVM.watch(fd:events:_:)`.
public struct FDWatchID: Hashable, Sendable {
    let raw: UInt64
}

/// QMP_FD_* readiness bits.
public struct FDEvents: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let readable = FDEvents(rawValue: QMP_FD_READABLE)
    public static let writable = FDEvents(rawValue: QMP_FD_WRITABLE)
    public static let hangup = FDEvents(rawValue: QMP_FD_HANGUP)
}

final class FDWatchBox {
    let body: (FDEvents) -> Void
    init(body: @escaping (FDEvents) -> Void) { self.body = body }
}

#if canImport(Glibc)
import Glibc
#endif
