import FleetCore
import Logging
import QAPISchema
import QMPServer
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// A VM of the fleet that is a real QEMU: clients attach to its usual
/// socket as to a simulated VM, any number at once, each negotiating on its
/// own; the fleet holds QEMU's single monitor connection and multiplexes it.
///
/// Clients see QEMU's own greeting, replies and events, byte for byte.
/// `qmp_capabilities` is answered here (QEMU negotiated once, with us), and
/// the VM's policy decides what may go upstream.
final class ProxyVM: SessionHost, ProxiedVM {
    public let name: String
    public let upstreamConfig: ProxyUpstream
    unowned let owner: any ProxyOwner
    private let logger: Logger
    private var upstream: Upstream?
    private var listener: UnixListener?
    /// The QEMU the fleet started itself, if any.
    private var launched: pid_t?
    private var sessions: [UInt64: Session] = [:]
    /// The negotiated ones, which the upstream's events go to.
    private let eventReceivers = EventReceivers()
    private var retry: ScheduledAction?
    private var ended = false
    public let socketPath: String

    init(name: String, upstream: ProxyUpstream, owner: any ProxyOwner) throws(FleetError) {
        self.name = name
        self.upstreamConfig = upstream
        self.owner = owner
        var logger = owner.logger
        logger[metadataKey: "vm"] = .string(name)
        self.logger = logger
        self.socketPath = "\(owner.socketDirectory)/\(name).qmp"
        guard owner.loop != nil else { throw FleetError.vm("VM '\(name)': proxy mode needs the fleet's event loop") }
        if let launch = upstream.launch { try start(launch) }
        connect()
    }

    /// The state `query-vms` shows.
    public var upstreamState: String { upstream?.state.rawValue ?? "disconnected" }
    public var clientCount: Int { sessions.count }

    // MARK: Upstream

    private func start(_ command: [String]) throws(FleetError) {
        guard let executable = command.first else { throw FleetError.vm("VM '\(name)': empty launch command") }
        unlink(upstreamConfig.socketPath)
        let arguments = command + ["-qmp", "unix:\(upstreamConfig.socketPath),server=on,wait=off"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, executable, nil, nil, &argv, environ)
        guard rc == 0 else {
            throw FleetError.vm("VM '\(name)': cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        launched = pid
    }

    /// Connects (again); until the socket answers, retries on a timer.
    private func connect() {
        guard !ended, let loop = owner.loop else { return }
        do {
            let up = try Upstream(loop: loop, path: upstreamConfig.socketPath, queueLimit: owner.limits.proxyQueuedCommands, logger: logger)
            up.onReady = { [weak self] in self?.upstreamReady() }
            up.onEvent = { [weak self] bytes in
                guard let self else { return }
                self.eventReceivers.deliver(bytes)
            }
            up.onClose = { [weak self] in self?.upstreamClosed() }
            upstream = up
        } catch {
            let initial = upstream == nil && launched != nil
            if initial || upstreamConfig.reconnectMilliseconds != nil {
                scheduleRetry(afterMilliseconds: upstreamConfig.reconnectMilliseconds ?? 50)
            } else {
                logger.error("cannot reach upstream \(upstreamConfig.socketPath): \(error)")
            }
        }
    }

    private func scheduleRetry(afterMilliseconds delay: UInt64) {
        retry = owner.scheduler.schedule(afterMilliseconds: delay) { [weak self] in self?.connect() }
    }

    /// Ready: start serving clients on the VM's socket.
    private func upstreamReady() {
        guard listener == nil, let loop = owner.loop else { return }
        let options = owner.vmListenerOptions
        do {
            listener = try UnixListener(loop: loop, path: socketPath, options: options) { [weak self] connection in
                guard let self else { return connection.close() }
                guard self.sessions.count < self.owner.limits.clientsPerVM else {
                    self.logger.warning("refusing client: \(self.sessions.count) clients attached (limit clients-per-vm)")
                    return connection.close()
                }
                let transport = ConnectionTransport(connection: connection)
                let session = Session(id: self.owner.nextSessionID(), host: self, transport: transport, logger: self.logger, peerDescription: "fd \(connection.fd)")
                self.sessions[session.id] = session
                transport.attach(to: session)
                session.start()
            }
            logger.info("proxy ready: \(upstreamConfig.socketPath) served on \(socketPath)")
        } catch {
            logger.error("cannot listen on \(socketPath): \(error)")
        }
    }

    /// QEMU went away: clients have had every event, now they are closed.
    private func upstreamClosed() {
        for session in Array(sessions.values) { session.closeAfterFlush() }
        sessions.removeAll()
        eventReceivers.removeAll()
        listener?.close()
        listener = nil
        upstream = nil
        if !ended, let delay = upstreamConfig.reconnectMilliseconds {
            logger.warning("upstream closed; reconnecting every \(delay) ms")
            scheduleRetry(afterMilliseconds: delay)
        } else {
            logger.warning("upstream closed")
        }
    }

    package func end() {
        ended = true
        retry?.cancel()
        for session in Array(sessions.values) { session.closeAfterFlush() }
        sessions.removeAll()
        eventReceivers.removeAll()
        listener?.close()
        listener = nil
        upstream?.close()
        upstream = nil
        if let launched {
            kill(launched, SIGTERM)
            ChildReaper.reap(launched, scheduler: owner.scheduler, logger: logger)
        }
    }

    // MARK: SessionHost

    public var greeting: [UInt8] { upstream?.greeting ?? owner.greeting }
    public var sessionLimits: SessionLimits { owner.limits.session }
    public var scheduler: any Scheduler { owner.scheduler }
    public var parserMemory: ParserMemoryBudget { owner.parserMemory }

    public func negotiate(capabilities arguments: JSONObject?) -> Result<NegotiatedCapabilities, QMPError> {
        CapabilityNegotiation.negotiate(arguments, schema: owner.coreSchemaView)
    }

    public func dispatch(_ call: CommandCall, complete: @escaping (QMPReply) -> Void) {
        if let refusal = upstreamConfig.policy.refusal(of: call.name, vm: name) {
            complete(.failure(.generic(refusal)))
            return
        }
        guard let upstream else {
            complete(.failure(.generic("The upstream QEMU is not connected")))
            return
        }
        upstream.send(call.name, arguments: call.request.arguments) { complete(QMPReply($0)) }
    }

    public func sessionDidNegotiate(_ session: Session) {
        eventReceivers.add(session)
    }

    public func sessionDidClose(_ session: Session) {
        sessions[session.id] = nil
        eventReceivers.remove(session)
    }

    /// `query-vms`' entry.
    package var info: JSONValue {
        [
            "name": .string(name), "socket": .string(socketPath), "status": .string(upstreamState),
            "running": .bool(upstream?.state == .ready), "plugins": [], "clients": .int(Int64(sessions.count)),
            "backend": "proxy",
        ]
    }
}
