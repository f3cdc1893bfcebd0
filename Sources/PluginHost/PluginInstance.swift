import DescriptorIO
import Logging
import UVLoop
import QMPPluginABI
import QMPServer
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// One plugin's state on one VM.
///
/// Its `qmp_vm*` handle (a number in `PluginHandles`) lets every host call
/// know both the VM and the plugin, so timers, events and pending requests
/// are the instance's own and end with it. Host calls are taken only on the
/// thread that created it, which is its VM's loop thread.
public final class PluginInstance {
    /// Its library, loop thread and reply counter, shared with the plugin's
    /// other instances on this loop (`PluginPlacement`: 24 bytes an instance).
    let placement: PluginPlacement
    public var library: PluginLibrary { placement.library }
    /// Its VM until the instance is destroyed (`destroy()` lets it go).
    /// Strong, not `weak`: a weak reference gives the VM a side table for
    /// good, and every retain and release of a VM then takes the slow path
    /// (docs/performance.md). The VM holds its instances until it ends and
    /// destroys them, which breaks the cycle.
    @exclusivity(unchecked) package private(set) var vm: (any PluginHostVM)?
    /// The VM's logger with the plugin's name, made for each message:
    /// plugins log rarely, and a kept one was 57 bytes of each of a VM's
    /// 13 instances.
    var logger: Logger {
        var logger = vm?.logger ?? PluginHostLogger.process
        logger[metadataKey: "plugin"] = .string(library.name)
        return logger
    }
    /// The plugin's `void *instance`.
    @exclusivity(unchecked) private(set) var state: UnsafeMutableRawPointer?
    /// What the plugin started on the loop, made at its first timer, fd
    /// watch or transfer: most instances start none, and keeping the
    /// tables in each of a VM's 13 instances cost it 0.4 KiB.
    private var work: LoopWork?

    /// An instance's timers, fd watches and transfers.
    private final class LoopWork {
        var timers: [UInt64: ScheduledAction] = [:]
        var fdWatches: [UInt64: FDWatcher] = [:]
        /// `fd_transfer`s waiting on the loop, cancelled when the VM ends.
        let transfers = TransferSet()
        /// The next timer or watch id (one numbering for both).
        var nextID: UInt64 = 1

        func takeID() -> UInt64 {
            defer { nextID += 1 }
            return nextID
        }
    }

    private var loopWork: LoopWork {
        if let work { return work }
        let made = LoopWork()
        work = made
        return made
    }
    /// Loop-confined, as `vm`, `state` and `keptReply`: read by every
    /// request, so without dynamic exclusivity checks.
    @exclusivity(unchecked) private var destroyed = false
    /// Inside the plugin's `vm_destroy`: `work_queue` is still honoured
    /// there, for cleanup that must not block the loop (removing a socket
    /// file a hung mount holds); its `done` gets NULL.
    private var inDestroyCall = false
    /// The VM's loop thread (instances are made on it): the only one whose
    /// host calls are taken.
    var thread: pthread_t { placement.thread }
    /// The `qmp_vm*` for this instance.
    private(set) var handle: OpaquePointer!
    /// Where its loop's metrics count this plugin's reply times, found once
    /// per loop rather than by the plugin's name per reply.
    var replyTimes: any PluginReplyTimer { placement.replyTimes }

    package convenience init(library: PluginLibrary, vm: any PluginHostVM) {
        self.init(placement: vm.pluginPlacement(for: library), vm: vm)
    }

    /// - Parameter placement: `vm.pluginPlacement(for:)` of its library,
    ///   found once by a caller that makes many VMs of one plugin set (a
    ///   look-up per instance was instructions of every VM).
    package init(placement: PluginPlacement, vm: any PluginHostVM) {
        // One made on another thread is not this instance's (a test that
        // moved to another thread): then one of its own.
        self.placement = placement.isOnCurrentThread
            ? placement : PluginPlacement(library: placement.library, replyTimes: placement.replyTimes)
        self.vm = vm
        handle = PluginHandles.register(self)
    }

    deinit { PluginHandles.release(handle) }

    /// The instance behind a plugin's handle, when the call may be taken:
    /// the VM is alive and the caller is on its loop thread. A refusal is
    /// logged with the function's name.
    static func from(_ handle: OpaquePointer?, _ function: StaticString, duringDestroy: Bool = false) -> PluginInstance? {
        switch PluginHandles.lookup(handle) {
        case .none:
            if handle != nil {
                PluginHostLogger.process.warning("a plugin called \(function) with the handle of a VM that has ended; refused")
            }
            return nil
        case .otherThread(let plugin):
            PluginHostLogger.process.warning("plugin '\(plugin)' called \(function) from a thread other than its VM's loop thread; refused")
            return nil
        case .instance(let instance):
            guard !instance.destroyed || (duringDestroy && instance.inDestroyCall) else { return nil }
            return instance
        }
    }

    /// Calls the plugin's `vm_create` with its config section.
    /// - Parameter text: the plugin's settings as JSON text, as they cross the ABI.
    package func create(configText text: String) throws(PluginLoadError) {
        guard let create = library.descriptor.pointee.vm_create else { return }
        var instance: UnsafeMutableRawPointer?
        // The error buffer on the stack: a heap array for each of a VM's
        // instances was 0.5 % of making 10,000 VMs.
        let failure: (rc: Int32, message: String)? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { error in
            error.initialize(repeating: 0)
            let rc = text.withCString { ptr in
                create(handle, ptr, text.utf8.count, &instance, error.baseAddress, error.count)
            }
            guard rc != 0 else { return nil }
            error[error.count - 1] = 0
            return (rc, String(cString: error.baseAddress!))
        }
        if let (rc, message) = failure {
            throw PluginLoadError("plugin '\(library.name)' (\(library.path)) failed to create VM '\(vm?.name ?? "?")': \(message.isEmpty ? "vm_create returned \(rc)" : message)")
        }
        state = instance
    }

    /// Ends the instance: its timers and pending requests first, then `vm_destroy`.
    package func destroy() {
        guard !destroyed else { return }
        destroyed = true
        if let work {
            for timer in work.timers.values { timer.cancel() }
            work.timers.removeAll()
            for watch in work.fdWatches.values { watch.close() }
            work.fdWatches.removeAll()
            work.transfers.cancelAll()
        }
        PendingRequests.current.cancelAll(of: self)
        if let destroyFn = library.descriptor.pointee.vm_destroy {
            inDestroyCall = true
            destroyFn(state)
            inDestroyCall = false
        }
        state = nil
        // From here on the handle finds nothing, even while Swift still
        // holds the instance.
        PluginHandles.release(handle)
        vm = nil
    }

    /// Tells the plugin its VM's run state is now `name`.
    package func runStateChanged(to name: String) {
        guard !destroyed, let fn = library.descriptor.pointee.run_state_changed else { return }
        name.withCString { fn(self.state, $0) }
    }

    package func machineReset() {
        guard !destroyed, let fn = library.descriptor.pointee.reset else { return }
        fn(state)
    }

    // MARK: Migration

    /// The plugin's `vm_save_state`: nil when it has none (it migrates
    /// nothing of its own).
    package func saveState() -> Result<JSONValue, QMPError>? {
        guard !destroyed, let save = library.saveState else { return nil }
        final class Sink { var text: [UInt8]? }
        let sink = Sink()
        let rc = save(state, { opaque, json, len in
            guard let opaque, let json else { return }
            let sink = Unmanaged<Sink>.fromOpaque(opaque).takeUnretainedValue()
            guard sink.text == nil else { return }
            sink.text = Array(UnsafeRawBufferPointer(start: json, count: len))
        }, Unmanaged.passUnretained(sink).toOpaque())
        guard rc == 0, let text = sink.text else {
            return .failure(.generic("plugin '\(library.name)' could not save its state"))
        }
        do throws(JSONParseError) {
            return .success(try JSONValue(parsing: String(decoding: text, as: UTF8.self)))
        } catch {
            return .failure(.generic("plugin '\(library.name)' saved state that is not JSON: \(error.message)"))
        }
    }

    /// The plugin's `vm_load_state` with what it saved on the source.
    package func loadState(_ saved: JSONValue) -> Result<Void, QMPError> {
        guard !destroyed, let load = library.loadState else {
            return .failure(.generic("plugin '\(library.name)' cannot load state"))
        }
        var error = [CChar](repeating: 0, count: 512)
        let text = saved.jsonText
        let rc = text.withCString { load(state, $0, text.utf8.count, &error, error.count) }
        guard rc == 0 else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(.generic("error while loading state for plugin '\(library.name)': \(message)"))
        }
        return .success(())
    }

    // MARK: Requests

    /// The last reply text of this plugin that was in QEMU's form and at
    /// most `QMPReplyCache.maxBytes`: a query answered again with the same
    /// text (a kept `query-balloon` or `query-block`) is recognised by one
    /// `memcmp` instead of the one-pass check and a copy, and the very same
    /// storage goes to the session, whose reply cache then reuses the line
    /// it wrote (`QMPReplyCache.success(encoded:id:)`). Equal bytes are
    /// the test, not anything the plugin says, so a plugin that changes
    /// its text in place cannot get stale bytes sent, and the ABI is unchanged.
    @exclusivity(unchecked) private var keptReply: CanonicalJSON?

    /// `text` as `CanonicalJSON` when it is in QEMU's form (the kept copy
    /// when it is the same bytes), nil when the host must parse and rewrite it.
    func canonicalReply(_ text: UnsafeRawBufferPointer) -> CanonicalJSON? {
        if let kept = keptReply, kept.bytes.count == text.count, let base = text.baseAddress,
           kept.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, base, text.count) == 0 }) {
            return kept
        }
        guard let canonical = CanonicalJSON(validating: text) else { return nil }
        if text.count <= QMPReplyCache.maxBytes { keptReply = canonical }
        return canonical
    }

    /// Hands a request to the plugin: `body` calls it with the request's
    /// token. `complete` runs once, when it answers, or with a GenericError
    /// when it does not answer in time.
    private func request(command: String, call: CommandCall? = nil, qomPath: String? = nil, complete: @escaping (QMPReply) -> Void,
                         _ body: (qmp_request) -> Void) {
        request(command: command, call: call, qomPath: qomPath, answered: complete, later: { complete }, body)
    }

    /// `request(command:call:qomPath:complete:_:)` with an answer given
    /// before `body` returned handed to `answered` in place; `later` makes
    /// the completion of a request left waiting (`PendingRequests.run`).
    private func request(command: String, call: CommandCall?, qomPath: String? = nil, answered: (QMPReply) -> Void,
                         later: () -> (QMPReply) -> Void, _ body: (qmp_request) -> Void) {
        guard vm != nil else { return answered(.failure(.generic("The VM is shutting down"))) }
        PendingRequests.withCurrent { $0.run(for: self, command: command, call: call, qomPath: qomPath, answered: answered, later: later, body) }
    }

    /// Runs a command handler (or a guest action's). Its answer may be text
    /// in QEMU's form (`QMPReply.encoded`), for the session to write as it is.
    ///
    /// The handler gets the arguments as text: a plugin built for ABI 2 the
    /// client's own (`argumentsText`, NUL-terminated, when the session's
    /// parser kept it), else the host writes them in QEMU's form, as every
    /// plugin built for ABI 1 gets them.
    ///
    /// `call` is the client's command it runs, when there is one: the
    /// plugin's reply time is taken from its start (`PendingRequests.run`).
    package func invoke(_ handler: BoundHandler, command: String, arguments: JSONObject, argumentsText: [UInt8]? = nil,
                        call: CommandCall? = nil, complete: @escaping (QMPReply) -> Void) {
        invoke(handler, command: command, arguments: arguments, argumentsText: argumentsText, call: call,
               answered: complete, later: { complete })
    }

    /// `invoke(_:command:arguments:argumentsText:call:complete:)` for a
    /// caller that answers a synchronous answer in place (`VM.route`): the
    /// plugin's answer given before its handler returned goes to
    /// `answered`, and only a request left waiting asks `later` for the
    /// completion to keep, so a plugin query makes no escaping closure.
    package func invoke(_ handler: BoundHandler, command: String, arguments: JSONObject, argumentsText: [UInt8]?,
                        call: CommandCall?, answered: (QMPReply) -> Void, later: () -> (QMPReply) -> Void) {
        let asSent = placement.library.abiVersion >= 2 ? argumentsText : nil
        guard asSent != nil || !arguments.isEmpty else {
            // `{}`, the arguments of most requests (queries): a constant C
            // string, nothing made per request.
            return request(command: command, call: call, answered: answered, later: later) { token in
                handler.fn(state, token, Self.emptyObjectText, 2, handler.userData)
            }
        }
        let text = asSent ?? Self.text(of: arguments)
        request(command: command, call: call, answered: answered, later: later) { token in
            text.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { handler.fn(state, token, $0.baseAddress, $0.count - 1, handler.userData) }
            }
        }
    }

    /// `arguments` in QEMU's form, NUL-terminated.
    private static func text(of arguments: JSONObject) -> [UInt8] {
        var text = JSONValue.object(arguments).jsonBytes()
        text.append(0)
        return text
    }

    /// `{}`, NUL-terminated, in the image's constant data.
    private static var emptyObjectText: UnsafePointer<CChar> {
        UnsafeRawPointer(("{}" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// Runs a device driver's or object type's `add`. A device's `qomPath`
    /// is the one the host assigned; the plugin reads it with `request_qom_path`.
    package func add(with driver: DeviceDriver, command: String, id: String?, qomPath: String? = nil, properties: JSONObject,
                     complete: @escaping (Result<JSONValue, QMPError>) -> Void) {
        let text = JSONValue.object(properties).jsonText
        request(command: command, qomPath: qomPath, complete: { complete($0.result) }) { token in
            text.withCString { props in
                if let id {
                    id.withCString { driver.add(state, token, $0, props, text.utf8.count, driver.userData) }
                } else {
                    driver.add(state, token, nil, props, text.utf8.count, driver.userData)
                }
            }
        }
    }

    /// Runs a driver's `del`; without one, the device cannot be unplugged.
    package func delete(with driver: DeviceDriver, command: String, id: String, complete: @escaping (Result<JSONValue, QMPError>) -> Void) {
        guard let del = driver.del else {
            complete(.failure(.generic("Device '\(id)' does not support hotplugging")))
            return
        }
        request(command: command, complete: { complete($0.result) }) { token in
            id.withCString { del(state, token, $0, driver.userData) }
        }
    }

    // MARK: Timers

    func startTimer(delay: UInt64, repeatEvery: UInt64, fn: qmp_timer_fn, opaque: UnsafeMutableRawPointer?) -> UInt64 {
        guard !destroyed, let vm else { return 0 }
        let id = loopWork.takeID()
        schedule(id, delay: delay, repeatEvery: repeatEvery, fn: fn, opaque: opaque, scheduler: vm.scheduler)
        return id
    }

    private func schedule(_ id: UInt64, delay: UInt64, repeatEvery: UInt64, fn: qmp_timer_fn, opaque: UnsafeMutableRawPointer?, scheduler: any Scheduler) {
        loopWork.timers[id] = scheduler.schedule(afterMilliseconds: delay) { [weak self] in
            guard let self, !self.destroyed, let work = self.work, work.timers[id] != nil else { return }
            if repeatEvery > 0 {
                self.schedule(id, delay: repeatEvery, repeatEvery: repeatEvery, fn: fn, opaque: opaque, scheduler: scheduler)
            } else {
                work.timers[id] = nil
            }
            fn(self.state, opaque)
        }
    }

    func cancelTimer(_ id: UInt64) {
        work?.timers.removeValue(forKey: id)?.cancel()
    }

    var activeTimerCount: Int { work?.timers.count ?? 0 }

    // MARK: Work off the loop

    /// `work_queue`: `work` on the loop's thread pool, then `done` back on
    /// the loop with the plugin's state, or with NULL when the instance
    /// ended meanwhile. Without a loop (in-process fleets) both run now.
    func queueWork(_ work: @escaping qmp_work_fn, done: @escaping qmp_work_done_fn, opaque: UnsafeMutableRawPointer?) {
        let carried = LoopConfined(opaque)
        guard let vm, vm.loop != nil else {
            work(opaque)
            done(destroyed ? nil : state, opaque)
            return
        }
        vm.offload({ work(carried.value) }, then: { [weak self] in
            let live = self.flatMap { $0.destroyed ? nil : $0 }
            done(live?.state, carried.value)
        })
    }

    /// `fd_transfer`: `buffer` to or from `fd` without a thread waiting on
    /// whoever is at its other end (`DescriptorTransfer`: a file on the
    /// pool, a pipe or socket on the loop), then `done` on the loop with
    /// the plugin's state, or NULL and -ECANCELED when the VM ended first.
    /// Without a loop (in-process fleets) it is done in place.
    func transfer(fd: Int32, direction: Int32, buffer: UnsafeMutableRawPointer?, length: Int,
                  done: @escaping qmp_transfer_done_fn, opaque: UnsafeMutableRawPointer?) -> Int32 {
        guard direction == QMP_TRANSFER_READ || direction == QMP_TRANSFER_WRITE, length >= 0,
              length == 0 || buffer != nil, let vm else { return -1 }
        let region = UnsafeMutableRawBufferPointer(start: length == 0 ? nil : buffer, count: length)
        let way: DescriptorTransfer.Direction = direction == QMP_TRANSFER_WRITE ? .write : .read
        guard let loop = vm.loop else {
            done(state, BlockingTransfer.run(way, fd: fd, buffer: region), opaque)
            return 0
        }
        loopWork.transfers.insert(loop.transfer(way, fd: fd, buffer: region, share: vm.poolShare,
                                       stallMilliseconds: vm.fdStallMilliseconds) { [weak self] result in
            let live = self.flatMap { $0.destroyed ? nil : $0 }
            done(live?.state, result, opaque)
        })
        return 0
    }

    /// `open_file_async`: the VM's open on the pool (`VM.openFile(_:flags:mode:then:)`),
    /// then `done` on the loop with the descriptor or QEMU's text. When the
    /// instance ended, or `request` (0: none) is no longer pending, the
    /// descriptor is closed and `done` gets a NULL instance, so nothing
    /// calls into a plugin state that is gone.
    func openFile(_ path: String, flags: Int32, mode: mode_t, request: qmp_request,
                  done: @escaping qmp_open_done_fn, opaque: UnsafeMutableRawPointer?) -> Int32 {
        guard let vm else { return -1 }
        let carried = LoopConfined(opaque)
        vm.openFile(path, flags: flags, mode: mode) { [weak self] result in
            let live = self.flatMap { $0.destroyed ? nil : $0 }
            let wanted = live != nil && (request == 0 || PendingRequests.current.isPending(request))
            switch result {
            case .success(let fd) where wanted:
                done(live?.state, fd, nil, carried.value)
            case .success(let fd):
                close(fd)
                done(nil, -1, "the open was cancelled", carried.value)
            case .failure(let error):
                error.desc.withCString { done(wanted ? live?.state : nil, -1, $0, carried.value) }
            }
        }
        return 0
    }

    // MARK: File descriptors

    /// Watches a plugin's fd on the VM's loop; nil without a loop (in-process fleets).
    func watch(fd: Int32, events: Int32, fn: qmp_fd_fn, opaque: UnsafeMutableRawPointer?) -> UInt64 {
        guard !destroyed, let loop = vm?.loop else { return 0 }
        let id = loopWork.takeID()
        do {
            let watcher = try FDWatcher(loop: loop, fd: fd) { [weak self] ready, failed in
                guard let self, !self.destroyed else { return }
                var bits = Int32(0)
                if ready.contains(.readable) { bits |= QMP_FD_READABLE }
                if ready.contains(.writable) { bits |= QMP_FD_WRITABLE }
                if failed || ready.contains(.disconnect) { bits |= QMP_FD_HANGUP }
                fn(self.state, fd, bits, opaque)
            }
            loopWork.fdWatches[id] = watcher
            updateWatch(id, events: events)
            return id
        } catch {
            logger.warning("cannot watch fd \(fd): \(error)")
            return 0
        }
    }

    func updateWatch(_ id: UInt64, events: Int32) {
        guard let watcher = work?.fdWatches[id] else { return }
        var wanted: FDWatcher.Events = []
        if events & QMP_FD_READABLE != 0 { wanted.insert(.readable) }
        if events & QMP_FD_WRITABLE != 0 { wanted.insert(.writable) }
        if events & QMP_FD_HANGUP != 0 { wanted.insert(.disconnect) }
        watcher.watch(wanted)
    }

    func unwatch(_ id: UInt64) {
        work?.fdWatches.removeValue(forKey: id)?.close()
    }
}
