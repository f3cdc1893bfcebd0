import FleetCore
import Logging
import QAPIRuntime
import QAPISchema
import QMPServer
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// The fleet control socket, `<socket-dir>/fleet.qmp`: QMP (greeting,
/// negotiation) with commands over the fleet rather than one VM: create and
/// destroy VMs, list them and the plugins, and drive the simulated guests.
final class ControlPlane: SessionHost, ControlService {
    /// The shard it lives on; see `ControlOwner` for why `unowned`.
    unowned let owner: any ControlOwner
    /// The control commands and their declarations: dispatched as a VM's
    /// are (`CommandDispatch`), with the plane's handlers.
    private let commands: CommandDispatch<ControlHandler>
    private var listener: UnixListener?
    private var sessions: [UInt64: Session] = [:]
    /// VMs handed over by `vm-attach-monitor`, by name: the control session
    /// of the emulator process that owns each. The VM ends when that
    /// session closes (the process died) and the session is closed when the
    /// VM ends (so the process exits, as QEMU's does).
    private var owners: [String: Owner] = [:]
    /// Names a `vm-create` taken alongside others claimed before its
    /// handler runs, with the shard each was claimed on
    /// (`ControlPlane+Alongside.swift`).
    var claimedNames: [String: VMClaim] = [:]

    /// Who owns a handed-over VM, and which VM of that name it is (a name
    /// can come back as a new VM once the old one ended).
    private struct Owner {
        let session: UInt64
        let vmSequence: Int
    }

    init(owner: any ControlOwner) throws(FleetError) {
        self.owner = owner
        do {
            let value = try JSONValue(parsing: PackageResources.control_schema_json)
            let schema = try SchemaView(modules: [try SchemaModule(name: "control", expressions: value)])
            commands = CommandDispatch(schema: schema, handlers: Self.bindings)
        } catch {
            throw FleetError.plugin("control schema: \(error)")
        }
        guard let loop = owner.loop else { return }
        let path = "\(owner.config.socketDirectory)/fleet.qmp"
        // Whoever reaches this socket creates and destroys VMs: the
        // fleet's own user only, whatever `socket-mode` grants VM sockets.
        let options = owner.listenerOptions(mode: ControlPlane.socketMode)
        do {
            listener = try UnixListener(loop: loop, path: path, options: options) { [weak self] connection in
                self?.attach(connection)
            }
        } catch {
            throw FleetError.io("cannot listen on \(path): \(error)")
        }
    }

    /// Sessions that own a VM handed over with `vm-attach-monitor`.
    private var ownerSessionCount: Int { Set(owners.values.map(\.session)).count }

    /// The control socket's mode, always.
    static let socketMode: mode_t = 0o600

    private func attach(_ connection: UnixConnection) {
        // An emulator's session that owns a handed-over VM lasts as long as
        // the VM (vms-per-fleet bounds those): a fleet of libvirt domains
        // must not run out of control slots.
        let counted = sessions.count - ownerSessionCount
        guard counted < owner.config.limits.controlClients else {
            owner.logger.warning("refusing control client: \(counted) attached (limit control-clients)")
            return connection.close()
        }
        let transport = ConnectionTransport(connection: connection)
        let session = Session(id: owner.nextSessionID(), host: self, transport: transport, logger: owner.logger, peerDescription: "control")
        sessions[session.id] = session
        transport.attach(to: session)
        session.start()
    }

    /// An in-process control client (QMPFleetTesting).
    package func attach(transport: any SessionTransport) -> Session {
        let session = Session(id: owner.nextSessionID(), host: self, transport: transport, logger: owner.logger, peerDescription: "control")
        sessions[session.id] = session
        session.start()
        return session
    }

    package func close() {
        listener?.close()
        listener = nil
        for session in Array(sessions.values) { session.closeAfterFlush() }
    }

    // MARK: SessionHost

    var greeting: [UInt8] { owner.greeting }
    var sessionLimits: SessionLimits { owner.config.limits.session }
    var scheduler: any Scheduler { owner.scheduler }
    var parserMemory: ParserMemoryBudget { owner.parserMemory }

    func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        CapabilityNegotiation.negotiate(arguments, schema: commands.schema)
    }

    func sessionDidClose(_ session: Session) {
        sessions[session.id] = nil
        for (name, owner) in owners where owner.session == session.id {
            owners[name] = nil
            destroyHandedOverVM(named: name, sequence: owner.vmSequence)
        }
    }

    /// Ends a VM `vm-attach-monitor` created once its emulator is gone.
    private func destroyHandedOverVM(named name: String, sequence: Int) {
        onOwner(of: name, { shard, done in
            if let vm = shard.vms[name], vm.creationSequence == sequence {
                vm.emitShutdownEvent(cause: .hostSignal)
                shard.destroyVM(vm, afterFlush: true)
            }
            done(.ok)
        }, { _ in })
    }

    /// Router: the VM `name` (the `sequence`th created) ended; its owning
    /// emulator's session (if any) closes.
    package func vmEnded(named name: String, sequence: Int) {
        guard let owner = owners[name], owner.vmSequence == sequence else { return }
        owners[name] = nil
        sessions[owner.session]?.closeAfterFlush()
    }

    // MARK: Reaching a VM's shard

    /// Runs `work` with the shard that owns VM `name` on that shard's
    /// loop; `complete` gets its answer back on this loop (at once when
    /// the VM is on this plane's own shard, `ControlOwner.onShard(owningVM:)`).
    func onOwner(of name: String, _ work: @escaping (any ControlOwner, @escaping (CommandResult) -> Void) -> Void,
                 _ complete: @escaping (CommandResult) -> Void) {
        owner.onShard(owningVM: name, work, notFound: .failure(.generic("VM '\(name)' not found")), then: complete)
    }

    /// `query-vms`' entries from every shard, in creation order (proxied
    /// VMs after, by name).
    private func listVMs(named only: String?, _ complete: @escaping (CommandResult) -> Void) {
        owner.onEveryShard({ shard -> (simulated: [(Int, JSONValue)], proxied: [(String, JSONValue)]) in
            (shard.vms.values.filter { only == nil || $0.name == only }.map { ($0.creationSequence, $0.info) },
             shard.proxies.values.filter { only == nil || $0.name == only }.map { ($0.name, $0.info) })
        }, then: { parts in
            let simulated = parts.flatMap(\.simulated).sorted { $0.0 < $1.0 }.map(\.1)
            let proxied = parts.flatMap(\.proxied).sorted { $0.0 < $1.0 }.map(\.1)
            complete(.success(.array(simulated + proxied)))
        })
    }

    func dispatch(_ call: CommandCall, complete reply: @escaping (QMPReply) -> Void) {
        let complete: (CommandResult) -> Void = { reply(QMPReply($0)) }
        switch commands.resolve(call) {
        case .failure(let error): complete(.failure(error))
        case .success(let run): run(self, call.arguments, call, complete)
        }
    }

    /// By the table `dispatch` resolves in (`CommandDispatch.command(named:)`).
    func command(named bytes: UnsafeBufferPointer<UInt8>) -> (number: Int, name: String)? {
        commands.command(named: bytes)
    }

    /// The control commands, each bound through its generated
    /// `QAPI.Control.<Name>Command` (scripts/qapi-gen from
    /// `control-schema.json`), as the core's are through `CommandBinding`:
    /// one table, no `switch` on the name. `qmp_capabilities` is the
    /// session's (negotiation).
    nonisolated(unsafe) private static let bindings: [String: ControlHandler] = ControlBinding.table([
        .bind(QAPI.Control.QueryCommandsCommand.self) { plane, _, _, complete in
            complete(.success(.array(plane.commands.schema.commandNames.map { ["name": .string($0)] })))
        },
        .bind(QAPI.Control.QueryVmsCommand.self) { plane, args, _, complete in plane.listVMs(named: args.name, complete) },
        .bind(QAPI.Control.QueryPluginsCommand.self) { plane, _, _, complete in
            complete(.success(.array(plane.owner.pluginLibraries.map(\.info))))
        },
        .bind(QAPI.Control.VmCreateCommand.self) { plane, args, _, complete in plane.create(args, complete) },
        .bind(QAPI.Control.VmAttachMonitorCommand.self) { plane, args, call, complete in plane.attachMonitor(args, call: call, complete) },
        .bind(QAPI.Control.VmDestroyCommand.self) { plane, args, _, complete in
            let vmName = args.name
            plane.onOwner(of: vmName, { shard, done in
                if let proxy = shard.proxies[vmName] {
                    shard.endProxy(proxy)
                    return done(.ok)
                }
                guard let vm = shard.vms[vmName] else { return done(.failure(.generic("VM '\(vmName)' not found"))) }
                shard.destroyVM(vm, afterFlush: true)
                done(.ok)
            }, complete)
        },
        .bind(QAPI.Control.QueryGuestActionsCommand.self) { plane, args, _, complete in
            let vmName = args.vm
            plane.onOwner(of: vmName, { shard, done in
                guard let vm = shard.vms[vmName] else { return done(.failure(.generic("VM '\(vmName)' not found"))) }
                done(.success(.array(MachineGuestActions.listing + vm.plugins.flatMap { plugin in
                    plugin.library.guestActions.values.sorted { $0.name < $1.name }.map { action in
                        ["plugin": .string(plugin.library.name), "action": .string(action.name), "arguments": action.arguments] as JSONValue
                    }
                })))
            }, complete)
        },
        .bindKeepingMembers(QAPI.Control.FaultAddCommand.self) { plane, args, members, complete in
            plane.addFault(args, members: members, complete)
        },
        .bind(QAPI.Control.FaultRemoveCommand.self) { plane, args, _, complete in plane.removeFault(id: args.id, complete) },
        .bind(QAPI.Control.QueryFaultsCommand.self) { plane, _, _, complete in plane.queryFaults(complete) },
        .bind(QAPI.Control.GuestActionCommand.self) { plane, args, _, complete in
            plane.onOwner(of: args.vm, { shard, done in ControlPlane.guestAction(args, on: shard, done) }, complete)
        },
    ], of: "control")

    /// `config` keys only the config file may set: `launch` runs a program
    /// and `upstream` names a path the fleet connects to and removes, so a
    /// control client could run anything and remove any socket with them.
    static let configFileOnlyKeys = ["launch", "upstream"]

    /// `vm-create`: on the shard its name was claimed on in request order
    /// (`claim`), or, when it cannot be claimed (unsharded, the name is
    /// taken, the fleet is full), the ordinary way, which gives the error.
    private func create(_ args: QAPI.Control.VmCreateCommand, _ complete: @escaping (CommandResult) -> Void) {
        guard let claim = claimedNames.removeValue(forKey: args.name) ?? claim(args.name) else {
            return owner.onShardForNewVM({ shard, done in done(ControlPlane.createVM(args, on: shard)) }, then: complete)
        }
        owner.onShard(claimed: claim, { shard, done in done(ControlPlane.createVM(args, on: shard, claim: claim)) }, then: complete)
    }

    /// - Parameter claim: the name claimed for `shard` (`claim`); given
    ///   back when no VM is made.
    private static func createVM(_ args: QAPI.Control.VmCreateCommand, on shard: any ControlOwner, claim: VMClaim? = nil) -> CommandResult {
        let name = args.name
        var entry = args.config?.objectValue ?? [:]
        // `createVM` gives a claimed name back itself when it fails.
        var claimed = claim != nil
        do throws(FleetError) {
            if let key = configFileOnlyKeys.first(where: { entry[$0] != nil }) {
                throw FleetError.vm("Parameter 'config.\(key)' is accepted only in the config file")
            }
            entry["name"] = .string(name)
            if let template = args.template { entry["template"] = .string(template) }
            let spec = try shard.spec(of: entry, source: "vm-create")
            // A proxy template's VM would share the config's QEMU (and start
            // another one at its socket path).
            guard spec.proxy == nil else { throw FleetError.vm("a proxied VM comes only from the config file") }
            claimed = false
            if let vm = try shard.createVM(spec, claim: claim) { return .success(vm.info) }
            return .success(shard.proxies[spec.name]?.info ?? .object([:]))
        } catch {
            if claimed { shard.releaseClaim(of: name) }
            return .failure(.generic(error.description))
        }
    }

    /// `vm-attach-monitor`: a VM from `qmpfleet-emulator`'s command line,
    /// served on the listening socket passed with the command (SCM_RIGHTS)
    /// or at `monitor-path`, its command-line devices replayed before it is
    /// returned, and owned by this control session.
    private func attachMonitor(_ args: QAPI.Control.VmAttachMonitorCommand, call: CommandCall, _ complete: @escaping (CommandResult) -> Void) {
        guard let session = call.session else { return complete(.failure(.generic("vm-attach-monitor needs a client"))) }
        guard let replay = CommandLineReplay(json: args.commands.map(JSONValue.array)) else {
            return complete(.failure(.generic("Invalid parameter 'commands'")))
        }
        var entry = args.config?.objectValue ?? [:]
        entry["name"] = .string(args.name)
        var monitors: [MonitorSpec] = []
        if let fd = call.takeFileDescriptor() { monitors.append(.listeningFD(fd)) }
        if let path = args.monitorPath {
            guard SocketDirectory.contains(path, directory: owner.config.socketDirectory) else {
                if let fd = monitors.first, case .listeningFD(let n) = fd { Glibc.close(n) }
                return complete(.failure(.generic("Parameter 'monitor-path' must name a socket in \(owner.config.socketDirectory)")))
            }
            monitors.append(.path(path))
        }
        guard !monitors.isEmpty else {
            return complete(.failure(.generic("No file descriptor supplied via SCM_RIGHTS and no 'monitor-path'")))
        }
        let vmName = entry["name"]?.stringValue ?? ""
        let ownerSession = session.id
        let vcpuThreadIDs = (args.vcpuThreadIds ?? []).compactMap { Int(exactly: $0) }
        owner.onShardForNewVM({ shard, done in
            Self.attachVM(entry, monitors: monitors, vcpuThreadIDs: vcpuThreadIDs, replay: replay, on: shard) { done(($0, $1)) }
        }, then: { [weak self] (answer: (result: CommandResult, sequence: Int?)) in
            let (result, sequence) = answer
            // The VM is owned once it is up: a VM that failed to start must
            // not close the emulator's session before it hears why. An
            // emulator that left while its VM was starting takes it along.
            if let self, let sequence {
                if self.sessions[ownerSession] != nil {
                    self.owners[vmName] = Owner(session: ownerSession, vmSequence: sequence)
                } else {
                    self.destroyHandedOverVM(named: vmName, sequence: sequence)
                }
            }
            complete(result)
        })
    }

    /// Creates the VM of `vm-attach-monitor` on `shard` and replays its
    /// command line; answers with the VM and its chardevs.
    /// Answers with the VM's creation sequence when it is up.
    private static func attachVM(_ entry: JSONObject, monitors: [MonitorSpec], vcpuThreadIDs: [Int], replay: CommandLineReplay,
                                 on shard: any ControlOwner, _ complete: @escaping (CommandResult, Int?) -> Void) {
        let vm: VM
        do {
            var spec = try VMSpec.single(entry: entry, source: "vm-attach-monitor", config: shard.config)
            guard spec.proxy == nil else { throw FleetError.vm("a proxied VM cannot be attached") }
            spec.monitors = monitors
            spec.vcpuThreadIDs = vcpuThreadIDs
            guard let created = try shard.createVM(spec) else { throw FleetError.vm("no VM created") }
            vm = created
        } catch {
            for case .listeningFD(let fd) in monitors { Glibc.close(fd) }
            return complete(.failure(.generic("\(error)")), nil)
        }
        replay.run(on: vm, skipped: { shard.logger.warning("\($0)") }) { failure in
            if let failure {
                shard.destroyVM(vm, afterFlush: false)
                return complete(.failure(.generic(failure)), nil)
            }
            guard !vm.isDestroyed else { return complete(.failure(.generic("VM '\(vm.name)' ended while starting")), nil) }
            vm.execute("query-chardev", nil) { chardevs in
                var info: JSONObject = ["vm": vm.info]
                if case .success(let list) = chardevs { info["chardevs"] = list }
                complete(.success(.object(info)), vm.creationSequence)
            }
        }
    }

    private static func guestAction(_ args: QAPI.Control.GuestActionCommand, on shard: any ControlOwner, _ complete: @escaping (CommandResult) -> Void) {
        let vmName = args.vm
        let pluginName = args.plugin
        let actionName = args.action
        guard let vm = shard.vms[vmName] else { return complete(.failure(.generic("VM '\(vmName)' not found"))) }
        if pluginName == MachineGuestActions.plugin { return complete(MachineGuestActions.run(actionName, on: vm)) }
        guard let plugin = vm.plugins.first(where: { $0.library.name == pluginName }) else {
            return complete(.failure(.generic("VM '\(vmName)' has no plugin '\(pluginName)'")))
        }
        guard let action = plugin.library.guestActions[actionName] else {
            return complete(.failure(.generic("plugin '\(pluginName)' has no guest action '\(actionName)'")))
        }
        let given = args.arguments_?.objectValue
        if let arguments = args.arguments_, given == nil, !arguments.isNull {
            return complete(.failure(.generic("Invalid parameter type for 'arguments', expected: object")))
        }
        switch vm.schema.check(given, against: action.arguments, context: "arguments") {
        case .failure(let error): complete(.failure(error))
        case .success(let checked): plugin.invoke(action.handler, command: "guest-action \(actionName)", arguments: checked) { complete($0.result) }
        }
    }
}

extension VM {
    /// `query-vms`' entry.
    var info: JSONValue {
        var o: JSONObject = [
            "name": .string(name),
            "socket": .string(socketPath ?? ""),
            "status": .string(runState.rawValue),
            "running": .bool(runState.isRunning),
        ]
        if let template = spec.template { o["template"] = .string(template) }
        o["plugins"] = .array(plugins.map { .string($0.library.name) })
        o["clients"] = .int(Int64(sessions.count))
        o["backend"] = "simulated"
        return .object(o)
    }
}
