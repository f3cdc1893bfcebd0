import Logging
import PluginHost
import QAPISchema
import QEMUReference
import QMPServer
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// One simulated QEMU virtual machine.
///
/// A VM owns its run state, its clients, its plugin instances, its devices
/// and its event bus; its command table is shared with every VM that has the
/// same plugins. Everything about one VM happens on one loop thread, so VM and
/// plugin state need no locks.
public final class VM {
    public let spec: VMSpec
    public var name: String { spec.name }
    /// The shard it lives on; see `VMOwner` for why `unowned`.
    unowned let owner: any VMOwner
    /// Its loop's counters (`owner.metrics`), held: every command counts
    /// in them, and each read through `owner` is a checked unowned load.
    let metrics: LoopMetrics
    let table: CommandTable
    /// The shard's logger with the VM's name, made at the first message
    /// (setting metadata re-renders it: not worth it for 10,000 VMs at start).
    package private(set) lazy var logger: Logger = {
        var logger = owner.logger
        logger[metadataKey: "vm"] = .string(spec.name)
        return logger
    }()

    public internal(set) var runState: RunState
    /// QEMU's `autostart`: the VM runs by itself once an incoming migration
    /// completes (no `-S`; `cont` and `stop` in `inmigrate` set and clear it).
    public internal(set) var autostart: Bool
    /// Attached clients by session id.
    public private(set) var sessions: [UInt64: Session] = [:]
    /// The negotiated ones, which events go to (kept in step with
    /// `sessions` through `sessionDidNegotiate` and `sessionDidClose`).
    let eventReceivers = EventReceivers()
    /// Which other loop writes which client, past `clients-written-by-vm-loop`.
    var clientWriterLoops = ClientWriterLoops()
    /// Made at the first event: most of a large fleet's VMs never send one
    /// until a client asks for something.
    public private(set) lazy var events = EventBus(scheduler: owner.scheduler) { [unowned self] bytes in
        self.eventReceivers.deliver(bytes)
        self.eventSent(bytes)
    }
    public let devices = DeviceRegistry()
    /// The board's root PCI bus, where `device_add` puts PCI devices; nil
    /// for a machine whose board QEMU 7.2 was not recorded for (none, microvm).
    public private(set) lazy var pciBus: PCIBus? = {
        guard let board = BoardReferenceData.board(of: spec.machine.type),
              let reference = PCIReferenceData.shared?.boards[board] else { return nil }
        // pc's pci.0 takes ACPI hot-plug; q35's and virt's pcie.0 none.
        return board == "pc" ? PCIBus(name: "pci.0", isHotpluggable: true, boardFunctionTypes: reference.functionTypes, devices: devices)
            : PCIBus(name: "pcie.0", isHotpluggable: false, boardFunctionTypes: reference.functionTypes, devices: devices)
    }()
    /// Set while a command line's `-device` runs (`CommandLineReplay`): the
    /// device is cold-plugged, as QEMU's are before the machine is ready.
    var coldPlugging = false
    /// `add-fd`'s sets, made at the first.
    public private(set) lazy var fdSets = FDSets()
    /// What `yank` can cut loose; the monitors' chardevs from the start
    /// (registered when the list is first needed).
    public private(set) lazy var yankInstances: YankInstances = {
        let instances = YankInstances()
        for index in 0..<max(1, spec.monitors.count) {
            instances.register(.monitor(index)) { [unowned self] in self.closeSessions(ofMonitor: index) }
        }
        return instances
    }()
    /// The monitor (index in the spec's monitors) each client came through.
    private var sessionMonitors: [UInt64: Int] = [:]
    /// User-created QOM objects (`object-add`), by id.
    public internal(set) var objects: [String: QOMObject] = [:]
    /// `/objects`' property table, for `qom-list`'s order: made at the
    /// first object added (`VM+QOMObjects.swift`).
    var objectTable: QOMPropertyTable?
    /// Ids whose `object-add` a plugin is still completing (a file opened
    /// off the loop): taken already, as in QEMU, whose object-add does not
    /// yield, so another client's add of the id is a duplicate meanwhile.
    var objectIDsBeingAdded: Set<String> = []
    /// `device_add`s a plugin has not answered yet: they count toward
    /// `devices-per-vm`, so clients adding at once cannot pass it.
    var devicesBeingAdded = 0
    /// One instance of each of the VM's plugins, in config order.
    @exclusivity(unchecked) public internal(set) var plugins: [PluginInstance] = []
    /// Where the VM's socket listens (nil in-process).
    public internal(set) var socketPath: String?
    /// Set when the VM has ended (`quit`); it no longer takes commands.
    ///
    /// This and the other fields every command reads (`plugins`, `faults`,
    /// `observation`) are `@exclusivity(unchecked)`: loop-confined, and
    /// their dynamic checks were 4 % of a pipelined plugin query.
    @exclusivity(unchecked) public internal(set) var isDestroyed = false
    /// The simulated guest's pending power-off after `system_powerdown`.
    var guestShutdownTask: ScheduledAction?
    /// Faults armed on this VM (`fault-add`, config `faults:`); nil when none.
    @exclusivity(unchecked) var faults: VMFaults?
    /// The page's view of the VM: its last commands and its watchers; made
    /// at the first command or watcher (`recordingObservation`), so a VM
    /// nobody talked to keeps none.
    @exclusivity(unchecked) var observation: VMObservation?
    /// The VM's share of libuv's thread pool (nil in-process): see `VM.offload`.
    package private(set) lazy var poolShare: PoolShare? = owner.loop.map { PoolShare(loop: $0, limit: limits.poolJobsPerVM) }
    /// Core commands' transfers to a client's pipe or socket waiting on the
    /// loop (`dumpdtb`), cancelled when the VM ends; made at the first.
    var transfers: TransferSet?
    /// What guest shutdowns, reboots and panics do (`set-action`).
    package internal(set) lazy var actions = LifecycleActions(noShutdown: spec.noShutdown, noReboot: spec.noReboot)

    /// When its shard created it, among all VMs of the process (listing order).
    package let creationSequence: Int
    /// The host thread id `query-cpus-fast` reports for vCPU 0.
    var vcpuThreadIDBase: Int { VM.vcpuThreadIDBase(sequence: creationSequence) }

    /// The host thread id `query-cpus-fast` reports for vCPU 0 of the VM
    /// created `sequence`th; its other vCPUs get the ids after it. Fixed at
    /// creation, so they stay the same while other VMs come and go.
    static func vcpuThreadIDBase(sequence: Int) -> Int {
        Int(getpid()) + 1 + sequence * vcpuThreadIDStride
    }

    /// Thread ids set aside per VM: room for the 1,024 vCPUs of QEMU's largest x86 machine.
    static let vcpuThreadIDStride = 1024

    /// The host thread of vCPU `index`: a real one where the spec has it
    /// (`qmpfleet-emulator`), else one derived from the creation order.
    package func vcpuThreadID(_ index: Int) -> Int {
        spec.vcpuThreadIDs.indices.contains(index) ? spec.vcpuThreadIDs[index] : vcpuThreadIDBase + index
    }
    /// The vCPUs it may have: the ids `vm_vcpu_thread_ids` hands out.
    package var possibleVCPUCount: Int { spec.machine.smp.maxCPUs }
    /// Its kind of machine's description (`MachineDescriptionText`),
    /// shared with the VMs of that kind, found at the first plugin call
    /// that reads it. Kept here, so the text a plugin holds lives as long
    /// as the VM whatever the kinds' cache drops.
    private lazy var machineKind = MachineDescriptionText.kind(for: spec.machine, qemuVersion: owner.qemuVersion)
    /// The description with no vCPU thread ids (`vm_machine_json_shared`).
    package var sharedMachineJSONText: ContiguousArray<CChar> { machineKind.sharedCString }
    /// The machine description with this VM's ids (`vm_machine_json`), kept
    /// only as the C string the ABI hands out: written at the first call,
    /// which the kit's plugins never make (they read the shared text).
    package private(set) lazy var machineJSONText: ContiguousArray<CChar> =
        machineKind.cString(vcpuThreadIDs: (0..<possibleVCPUCount).map(vcpuThreadID))
    /// The name as the C string `vm_name` hands out (stable while the VM lives).
    package let nameCString: ContiguousArray<CChar>

    /// - Parameter creationSequence: its place in creation order, among all
    ///   VMs of the process (`FleetCounters.nextVMSequence`).
    init(spec: VMSpec, owner: any VMOwner, table: CommandTable, creationSequence: Int) {
        self.spec = spec
        self.owner = owner
        self.metrics = owner.metrics
        self.table = table
        self.runState = spec.incomingDeferred ? .inmigrate : spec.startPaused ? .prelaunch : .running
        self.autostart = !spec.startPaused
        self.creationSequence = creationSequence
        self.nameCString = ContiguousArray(spec.name.utf8CString)
    }

    /// Yanking a monitor's chardev: QEMU shuts its socket down, so its
    /// client leaves with no further reply (not even to the `yank`); the
    /// monitor keeps listening.
    private func closeSessions(ofMonitor index: Int) {
        for session in Array(sessions.values) where (sessionMonitors[session.id] ?? 0) == index {
            session.close()
        }
    }

    /// The schema this VM answers with (core plus its plugins).
    public var schema: SchemaView { table.schema }

    public var scheduler: any Scheduler { owner.scheduler }

    // MARK: Clients

    /// Attaches a new client; it gets the greeting at once.
    @discardableResult
    public func attach(transport: any SessionTransport, peer: String = "", monitor: Int = 0) -> Session? {
        guard !isDestroyed else {
            transport.close()
            return nil
        }
        guard sessions.count < owner.limits.clientsPerVM else {
            logger.warning("refusing client: \(sessions.count) clients attached (limit clients-per-vm)")
            owner.metrics.clientsRefusedAtLimit &+= 1
            transport.close()
            return nil
        }
        let session = Session(id: owner.nextSessionID(), host: self, transport: transport, makeLogger: { [unowned self] in self.logger },
                              peerDescription: peer, metrics: owner.metrics)
        owner.metrics.clientsAccepted &+= 1
        sessions[session.id] = session
        if monitor != 0 { sessionMonitors[session.id] = monitor }
        session.start()
        return session
    }

    /// Closes every client (the VM is ending).
    func closeAllSessions(afterFlush: Bool = false) {
        for session in Array(sessions.values) {
            if afterFlush { session.closeAfterFlush() } else { session.close() }
        }
        sessions.removeAll()
        eventReceivers.removeAll()
        clientWriterLoops.removeAll()
    }
}

extension VM: SessionHost {
    public var greeting: [UInt8] { owner.greeting }
    public var limits: Limits { owner.limits }
    public var sessionLimits: SessionLimits { owner.limits.session }
    public var parserMemory: ParserMemoryBudget { owner.parserMemory }

    public func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        CapabilityNegotiation.negotiate(arguments, schema: schema)
    }

    /// Runs a command as a client's request would run, with no client:
    /// how `qmpfleet-emulator` applies a QEMU command line's `-blockdev`,
    /// `-device`, `-netdev`, ... (their JSON syntax is QMP's arguments).
    public func execute(_ name: String, _ arguments: JSONObject?, complete: @escaping (CommandResult) -> Void) {
        let call = CommandCall(request: QMPRequest(execute: name, arguments: arguments), session: nil, fileDescriptors: [])
        dispatch(call) { complete($0.result) }
    }

    public func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        route(call, observer: observer(of: call), complete: complete)
    }

    /// By the table `route` resolves in (`CommandDispatch.command(named:)`).
    public func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? {
        table.commands.command(named: bytes)
    }

    /// Runs `call` and hands its answer to `complete` once `observer` has
    /// recorded it. With no fault armed, an `.immediate` command, and a
    /// plugin's that answers before its handler returns (every plugin
    /// query), is recorded and answered here, with no closure made around
    /// `complete` (the closure's context and the retains of what it held
    /// were a tenth of a pipelined `query-status`'s instructions, and a
    /// third of what a plugin query cost more than it, docs/performance.md).
    private func route(_ call: CommandCall, observer: CommandObserver, complete answer: @escaping (QMPReply) -> Void) {
        func answerNow(_ reply: QMPReply) {
            observer.answered(call, reply)
            answer(reply)
        }
        guard !isDestroyed else { return answerNow(.failure(.generic("The VM is shutting down"))) }
        let handler: CommandHandler
        switch table.commands.resolve(call) {
        case .failure(let error):
            return answerNow(.failure(error))
        case .success(let found):
            handler = found
        }
        if faults == nil || call.session == nil {
            switch handler {
            case .immediate(let body):
                return answerNow(QMPReply(body(CommandContext(vm: self, call: call))))
            case .plugin(let library, let fn, let index):
                return runPlugin(library, fn, instance: index, call, answered: answerNow, later: { observer.wrapping(answer, of: call) })
            case .deferred:
                break
            }
        }
        var complete = observer.wrapping(answer, of: call)
        if let faults, call.session != nil {
            guard let faulted = faults.apply(to: call, of: self, complete) else { return }
            guard !isDestroyed else { return faulted(.failure(.generic("The VM is shutting down"))) }
            complete = faulted
        }
        switch handler {
        case .immediate(let body):
            complete(QMPReply(body(CommandContext(vm: self, call: call))))
        case .deferred(let body):
            body(CommandContext(vm: self, call: call)) { complete(QMPReply($0)) }
        case .plugin(let library, let fn, let index):
            runPlugin(library, fn, instance: index, call, answered: complete, later: { complete })
        }
    }

    /// Runs a plugin's command handler on this VM's instance of `library`
    /// (`index` is its place in `plugins`, checked, with a search as the
    /// fallback). An answer given before the handler returned goes to
    /// `answered`; `later` makes the completion of one left waiting.
    private func runPlugin(_ library: PluginLibrary, _ fn: BoundHandler, instance index: Int, _ call: CommandCall,
                           answered: (QMPReply) -> Void, later: () -> (QMPReply) -> Void) {
        guard let instance = plugins.indices.contains(index) && plugins[index].library === library
                ? plugins[index] : plugins.first(where: { $0.library === library }) else {
            return answered(.failure(.commandNotFound(call.name)))
        }
        instance.invoke(fn, command: call.name, arguments: call.arguments, argumentsText: call.request.argumentsText, call: call,
                        answered: answered, later: later)
    }

    public func sessionDidNegotiate(_ session: Session) {
        eventReceivers.add(session)
    }

    public func sessionDidClose(_ session: Session) {
        sessions[session.id] = nil
        eventReceivers.remove(session)
        sessionMonitors[session.id] = nil
        clientWriterLoops.remove(session: session.id)
    }
}
