import Logging
import PluginHost
import QAPISchema
import QMPServer
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// The fleet: owns the event loop's sockets, the VMs, the loaded plugins and
/// the control socket.
///
/// Without a loop (`loop == nil`) it runs in-process only: VMs have no
/// sockets and clients attach through `VM.attach(transport:)`; that is how
/// QMPFleetTesting drives it under a virtual clock.
public final class Router {
    public let config: FleetConfig
    public let logger: Logger
    public let scheduler: any Scheduler
    public let loop: EventLoop?
    public let plugins: PluginLoader
    /// The parts of the fleet that live in modules over FleetCore.
    let frontEnds: FleetFrontEnds
    let coreSchema: SchemaModule
    /// The greeting every client gets, serialized once.
    public let greeting: [UInt8]
    public private(set) var vms: [String: VM] = [:]
    private var tables: [[String]: CommandTable] = [:]
    /// Each plugin's settings as the text `vm_create` takes, for the settings
    /// last seen: the VMs of one `count` entry share them, so a 10,000-VM
    /// fleet writes each plugin's text once, not once per VM.
    private var configTexts: [String: (config: JSONValue, text: String)] = [:]
    /// The last VM's table and settings texts, for the next of its template.
    private var lastSetup: PluginSetup?
    /// The realized-device lists this loop's VMs share (`DeviceRegistry.settle`).
    private let deviceLists = SharedDeviceLists()
    /// The last `vm-create` entry read, for the next that differs only in its name.
    private var entries = VMEntryCache()
    /// VMs that are real QEMUs behind the fleet (proxy mode), by name.
    package private(set) var proxies: [String: any ProxiedVM] = [:]
    /// The core schema alone, for checks that need no VM (proxied clients' `qmp_capabilities`).
    package private(set) lazy var coreSchemaView: SchemaView? = try? SchemaView(modules: [coreSchema])
    private var listeners: [String: [UnixListener]] = [:]
    private let counters: FleetCounters
    /// What this router's VMs did: counted on its loop, read at a scrape.
    public let metrics = LoopMetrics()
    /// The control socket (shard 0 only), when the program built the fleet with one.
    package var control: (any ControlService)?
    /// Faults to arm on VMs (the config's `faults:`, then `fault-add`); every
    /// router of a sharded fleet keeps the same list, each for its own VMs.
    package var faultRules: [FaultSpec]
    /// Firings of each rule on VMs that have ended, by rule id (bounded by the rules).
    var retiredFaultFirings: [String: Int] = [:]
    /// Set when this router is one shard of a fleet spread over several
    /// loops; names and the VM limit are then the fleet's, not this router's.
    package weak var shards: FleetShards?
    /// This router's place in `shards`.
    package var shardIndex = 0
    /// Called once a VM has ended (`quit`, a guest power-off without
    /// `-no-shutdown`, `vm-destroy`): `qmpfleet-emulator` exits then, as QEMU does.
    public var onVMEnded: ((VM) -> Void)?

    /// - Parameters:
    ///   - counters: shared by the routers of one sharded fleet.
    ///   - plugins: a loader to share with other routers (each library is
    ///     then loaded once); nil makes one for this router.
    ///   - frontEnds: what the program built the fleet with of the modules
    ///     over FleetCore (the control socket, proxied VMs).
    public init(config: FleetConfig, logger: Logger, scheduler: any Scheduler, loop: EventLoop?,
                counters: FleetCounters = FleetCounters(), plugins: PluginLoader? = nil,
                frontEnds: FleetFrontEnds = FleetFrontEnds()) throws(FleetError) {
        self.config = config
        self.frontEnds = frontEnds
        self.logger = logger
        self.scheduler = scheduler
        self.loop = loop
        self.counters = counters
        if let plugins {
            self.coreSchema = plugins.core
        } else {
            self.coreSchema = try CoreCommands.loadSchema()
        }
        self.plugins = plugins ?? PluginLoader(searchPath: config.pluginSearchPath, core: coreSchema)
        self.greeting = QMPMessage.greeting(version: config.qemuVersion)
        self.faultRules = config.faults
    }

    package func nextSessionID() -> UInt64 { counters.nextSessionID() }
    /// What all sessions' parsers of the fleet hold, shared by its loops.
    public var parserMemory: ParserMemoryBudget { counters.parserMemory }

    /// A new VM's place in creation order: listings sort by it, and its
    /// vCPUs' host thread ids derive from it (`VM.vcpuThreadIDBase`).
    func nextVMSequence() -> Int { counters.nextVMSequence() }

    /// The VMs in creation order (sorted when asked: creating and destroying
    /// VMs stays O(1) however large the fleet).
    public var vmList: [VM] { vms.values.sorted { $0.creationSequence < $1.creationSequence } }

    // MARK: Life cycle

    /// Creates the socket directory and control socket, then every VM of the
    /// config. A VM that cannot start is logged with its reason; the others start.
    /// - Returns: the VMs that failed, with why.
    @discardableResult
    public func start() throws(FleetError) -> [(name: String, error: FleetError)] {
        try prepareSockets()
        let failures = createVMs(config.vms)
        logger.info("fleet ready: \(vms.count) VMs in \(config.socketDirectory)")
        return failures
    }

    /// With a loop: creates the socket directory and the control socket.
    func prepareSockets() throws(FleetError) {
        guard loop != nil else { return }
        try SocketDirectory.prepare(config.socketDirectory, mode: config.socketMode)
        control = try frontEnds.makeControl?(self)
    }

    /// Creates `specs`' VMs; one that cannot start is logged with its
    /// reason, and the others start.
    @discardableResult
    func createVMs(_ specs: [VMSpec]) -> [(name: String, error: FleetError)] {
        var failures: [(String, FleetError)] = []
        for spec in specs {
            do {
                try createVM(spec)
            } catch {
                logger.error("VM \(spec.name) not started: \(error)")
                failures.append((spec.name, error))
            }
        }
        return failures
    }

    /// Loads the plugins `specs` name and builds their command tables now;
    /// a plugin that fails is reported when its VM is created.
    func preloadPlugins(for specs: [VMSpec]) {
        for spec in specs where spec.proxy == nil { _ = try? table(for: spec.plugins.keys, target: spec.machine.arch) }
    }

    /// Loads the plugins of every VM in the config and combines each VM's
    /// set into its command table, creating nothing: the check that
    /// `qmpfleet check-config` runs, so a VM that would not start is caught
    /// before the fleet does.
    /// - Returns: the VMs whose plugins cannot load or combine, with why.
    public func checkPlugins() -> [(name: String, error: FleetError)] {
        config.vms.compactMap { spec -> (name: String, error: FleetError)? in
            guard spec.proxy == nil else { return nil }
            do throws(FleetError) {
                _ = try table(for: spec.plugins.keys, target: spec.machine.arch)
                return nil
            } catch {
                return (spec.name, error)
            }
        }
    }

    /// The command table for a plugin list on one target, shared by every
    /// VM with that list and target (QEMU's target decides some core
    /// commands: `query-sev` is x86's only).
    func table(for pluginNames: [String], target: String) throws(FleetError) -> CommandTable {
        let key = [target] + pluginNames
        if let table = tables[key] { return table }
        var libraries: [PluginLibrary] = []
        for name in pluginNames {
            do throws(PluginLoadError) { libraries.append(try plugins.library(named: name)) } catch { throw FleetError(error) }
        }
        let table = try CommandTable(core: coreSchema, coreHandlers: CoreCommands.handlers, plugins: libraries, target: target)
        tables[key] = table
        return table
    }

    /// Creates and starts one VM: its plugins' instances, then its socket.
    /// - Parameter claim: the name and creation place already claimed for
    ///   this shard (`FleetShards.claimNewVM`); a VM that is not made gives
    ///   the name back.
    /// - Returns: the VM, or nil for a proxied VM (see `proxies`).
    @discardableResult
    public func createVM(_ spec: VMSpec) throws(FleetError) -> VM? {
        try createVM(spec, claim: nil)
    }

    @discardableResult
    package func createVM(_ spec: VMSpec, claim: VMClaim?) throws(FleetError) -> VM? {
        var spec = spec
        do throws(FleetError) {
            if let problem = VMNameRule.problem(with: spec.name, limit: config.limits.vmNameBytes) {
                throw FleetError.vm(problem)
            }
            // A claimed name is no other VM's: the directory holds a live
            // VM's name until it ends.
            if let claim {
                precondition(claim.shard == shardIndex, "VM '\(spec.name)' claimed for shard \(claim.shard), made on \(shardIndex)")
                spec.creationSequence = claim.sequence
            } else {
                try reserveName(spec.name)
            }
        } catch {
            if claim != nil { releaseName(spec.name) }
            throw error
        }
        do {
            return try makeVM(spec)
        } catch {
            releaseName(spec.name)
            throw error
        }
    }

    /// The one VM a `vms:` entry given as JSON describes (`VMSpec.single`),
    /// its template read once for a run of entries that differ only in `name`.
    package func spec(of entry: JSONObject, source: String) throws(FleetError) -> VMSpec {
        try entries.spec(of: entry, source: source, config: config)
    }

    /// Claims a name for a new VM: unique in the fleet, within `vms-per-fleet`.
    private func reserveName(_ name: String) throws(FleetError) {
        guard vms[name] == nil, proxies[name] == nil else { throw FleetError.vm("VM '\(name)' already exists") }
        if let shards {
            try shards.directory.reserve(name, on: shardIndex)
        } else if vms.count >= config.limits.vmsPerFleet {
            throw FleetError.vm("the fleet has \(vms.count) VMs (limit vms-per-fleet)")
        }
    }

    /// A VM's name is free again (it ended, or never started).
    private func releaseName(_ name: String) {
        shards?.directory.release(name)
    }

    /// Gives back a name claimed for a VM of this shard that will not be
    /// made (`createVM(_:claim:)` was not reached).
    package func releaseClaim(of name: String) {
        guard vms[name] == nil, proxies[name] == nil else { return }
        releaseName(name)
    }

    /// The command table and settings texts of a VM with `spec`'s plugins.
    private func pluginSetup(for spec: VMSpec) throws(FleetError) -> PluginSetup {
        if let last = lastSetup, last.fits(spec.plugins, target: spec.machine.arch) { return last }
        let table = try table(for: spec.plugins.keys, target: spec.machine.arch)
        let texts = table.plugins.map { configText(spec.plugins[$0.name] ?? .object([:]), plugin: $0.name) }
        let placements = table.plugins.map { metrics.pluginPlacement(for: $0) }
        let setup = PluginSetup(plugins: spec.plugins, target: spec.machine.arch, table: table, texts: texts, placements: placements)
        lastSetup = setup
        return setup
    }

    private func configText(_ config: JSONValue, plugin: String) -> String {
        if let cached = configTexts[plugin], cached.config == config { return cached.text }
        let text = config.jsonText
        configTexts[plugin] = (config, text)
        return text
    }

    private func makeVM(_ spec: VMSpec) throws(FleetError) -> VM? {
        if let upstream = spec.proxy {
            guard let makeProxy = frontEnds.makeProxy else {
                throw FleetError.vm("VM '\(spec.name)': proxy mode is not part of this program")
            }
            proxies[spec.name] = try makeProxy(spec.name, upstream, self)
            return nil
        }
        let setup = try pluginSetup(for: spec)
        let table = setup.table
        let vm = VM(spec: spec, owner: self, table: table, creationSequence: spec.creationSequence ?? nextVMSequence())
        vm.plugins.reserveCapacity(table.plugins.count)
        for index in table.plugins.indices {
            let instance = PluginInstance(placement: setup.placements[index], vm: vm)
            do throws(PluginLoadError) {
                try instance.create(configText: setup.texts[index])
            } catch {
                for created in vm.plugins { created.destroy() }
                throw FleetError(error)
            }
            vm.plugins.append(instance)
        }
        vm.devices.settle(sharingWith: deviceLists)
        if let loop {
            let monitors = spec.monitors.isEmpty ? [.path("\(config.socketDirectory)/\(spec.name).qmp")] : spec.monitors
            var opened: [UnixListener] = []
            for (index, monitor) in monitors.enumerated() {
                do {
                    opened.append(try listener(for: monitor, index: index, of: vm, on: loop))
                } catch {
                    for listener in opened { listener.close() }
                    for created in vm.plugins { created.destroy() }
                    throw FleetError.io("VM '\(spec.name)': cannot serve QMP on \(monitor): \(error)")
                }
            }
            listeners[spec.name] = opened
            vm.socketPath = opened.lazy.compactMap(\.path).first
        }
        vms[spec.name] = vm
        armFaults(on: vm)
        return vm
    }

    private func listener(for monitor: MonitorSpec, index: Int, of vm: VM, on loop: EventLoop) throws -> UnixListener {
        // Holds the VM (a weak capture would give it a side table, and its
        // every retain the slow path): the listener is closed and dropped
        // when the VM ends (`destroyVM`), and `attach` refuses an ended VM.
        let accept: (UnixConnection) -> Void = { connection in Router.attach(connection, to: vm, monitor: index) }
        switch monitor {
        case .path(let path):
            return try UnixListener(loop: loop, path: path, options: listenerOptions(mode: config.socketMode), onAccept: accept)
        case .listeningFD(let fd):
            return try UnixListener(loop: loop, adoptingListeningFD: fd, onExhaustion: reportExhaustion, onAccept: accept)
        }
    }

    /// Options for a socket the fleet serves: its mode, and where running
    /// out of descriptors is logged.
    package func listenerOptions(mode: mode_t) -> UnixListener.Options {
        var options = UnixListener.Options()
        options.mode = mode
        options.onExhaustion = reportExhaustion
        return options
    }

    private var reportExhaustion: @Sendable (String) -> Void {
        { [logger] line in logger.warning("\(line)") }
    }

    /// Attaches an accepted connection to a VM as a new session.
    static func attach(_ connection: UnixConnection, to vm: VM?, monitor: Int = 0) {
        guard let vm else {
            connection.close()
            return
        }
        if let readerLoop = vm.owner.loop, let writer = vm.owner.writerLoop(forNewClientOf: vm),
           let transport = CrossLoopTransport(connection: connection, readerLoop: readerLoop, writerLoop: writer.loop,
                                              limits: vm.sessionLimits) {
            if let session = vm.attach(transport: transport, peer: "fd \(connection.fd)", monitor: monitor) {
                vm.clientWriterLoops.add(session: session.id, loop: writer.index)
                transport.attach(to: session)
            }
            return
        }
        let transport = ConnectionTransport(connection: connection)
        if let session = vm.attach(transport: transport, peer: "fd \(connection.fd)", monitor: monitor) {
            transport.attach(to: session)
        }
    }

    /// The loop that writes to a new client of `vm`, when not the VM's own:
    /// past `clients-written-by-vm-loop`, the loop that writes the fewest of
    /// its clients (`ClientWriterLoops`), so with two loops every second
    /// client's writes go to the other core.
    func writerLoop(forNewClientOf vm: VM) -> (index: Int, loop: EventLoop)? {
        guard let shards else { return nil }
        let loops = shards.loops
        guard let index = vm.clientWriterLoops.choose(own: shardIndex, loopCount: loops.count, attached: vm.sessions.count,
                                                      threshold: config.limits.clientsWrittenByVMLoop) else { return nil }
        return (index, loops[index])
    }

    /// Ends a VM: its clients are closed (after their queued output when
    /// `afterFlush`), its plugins destroyed, its socket removed.
    public func destroyVM(_ vm: VM, afterFlush: Bool = false) {
        guard !vm.isDestroyed else { return }
        vm.isDestroyed = true
        vm.guestShutdownTask?.cancel()
        for listener in listeners.removeValue(forKey: vm.name) ?? [] { listener.close() }
        vm.closeAllSessions(afterFlush: afterFlush)
        for plugin in vm.plugins.reversed() { plugin.destroy() }
        vm.plugins.removeAll()
        let transfers = vm.transfers
        transfers?.cancelAll()
        vm.fdSets.closeAll()
        vm.events.shutdown()
        vm.observation?.ended()
        retireFaults(of: vm)
        vms[vm.name] = nil
        releaseName(vm.name)
        logger.info("VM \(vm.name) ended")
        let name = vm.name
        let sequence = vm.creationSequence
        if let shards {
            shards.run(on: 0) { $0.control?.vmEnded(named: name, sequence: sequence) }
        } else {
            control?.vmEnded(named: name, sequence: sequence)
        }
        onVMEnded?(vm)
    }

    /// SIGTERM/SIGINT: every VM tells its clients SHUTDOWN (host-signal) and
    /// closes; sockets are removed; the loop ends.
    public func shutdown() {
        for vm in vmList {
            vm.emitShutdownEvent(cause: .hostSignal)
            destroyVM(vm, afterFlush: true)
        }
        for proxy in Array(proxies.values) { endProxy(proxy) }
        control?.close()
        control = nil
        // Give queued SHUTDOWN events a moment to reach the clients.
        _ = scheduler.schedule(afterMilliseconds: 100) { [loop] in loop?.stop() }
    }
}

extension Router {
    /// Attaches an in-process client to the control plane (creating the
    /// plane when the fleet has no sockets).
    public func attachControl(transport: any SessionTransport) -> Session? {
        if control == nil { control = try? frontEnds.makeControl?(self) }
        return control?.attach(transport: transport)
    }
}

extension Router {
    /// SIGHUP: brings the VM list in line with a re-read config. VMs that
    /// were added start, VMs that were removed stop (their clients get
    /// SHUTDOWN), and VMs in both keep their state and clients. Other
    /// settings (socket dir, limits) take effect at the next start.
    /// - Returns: what changed, for the log.
    @discardableResult
    public func reload(vms specs: [VMSpec]) -> (added: [String], removed: [String], failed: [(String, FleetError)]) {
        let removed = removeVMs(notIn: Set(specs.map(\.name)))
        let (added, failed) = addVMs(specs)
        return (added, removed, failed)
    }

    /// Reload's first half: ends the config file's VMs (and proxies, which
    /// come only from it) whose names are not in `wanted`; their clients get
    /// SHUTDOWN. VMs a control client made or an emulator handed over are
    /// not the file's to remove. Returns their names.
    func removeVMs(notIn wanted: Set<String>) -> [String] {
        var removed: [String] = []
        for (name, proxy) in proxies where !wanted.contains(name) {
            endProxy(proxy)
            removed.append(name)
        }
        for vm in vmList where vm.spec.isFromConfigFile && !wanted.contains(vm.name) {
            vm.emitShutdownEvent(cause: .hostSignal)
            destroyVM(vm, afterFlush: true)
            removed.append(vm.name)
        }
        return removed
    }

    /// Reload's second half: starts the VMs of `specs` that do not exist yet.
    func addVMs(_ specs: [VMSpec]) -> (added: [String], failed: [(String, FleetError)]) {
        var added: [String] = []
        var failed: [(String, FleetError)] = []
        for spec in specs where vms[spec.name] == nil && proxies[spec.name] == nil {
            do {
                try createVM(spec)
                added.append(spec.name)
            } catch {
                failed.append((spec.name, error))
            }
        }
        return (added, failed)
    }
}

extension Router {
    /// Ends a proxied VM: its clients close, the fleet lets go of QEMU (and
    /// stops it if the fleet started it).
    package func endProxy(_ proxy: any ProxiedVM) {
        proxy.end()
        proxies[proxy.name] = nil
        releaseName(proxy.name)
    }
}
