import ArgumentParser
import FleetConfigFile
import FleetControl
import FleetCore
import FleetHTTP
import Logging
import Proxy
import SharedValues
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// `qmpfleet serve`: start the fleet of a config file and serve until SIGINT/SIGTERM.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the fleet described by a config file.")
    /// How often free heap memory is given back (HeapTrimmer): a trim of
    /// a 1,000-VM hostile soak's heap took 0 to 25 ms of a pool thread.
    static let heapTrimMilliseconds: UInt64 = 10_000

    @Option(name: .long, help: "The fleet config (YAML).")
    var config: String = "config/fleet.yaml"

    @Option(name: .customLong("socket-dir"), help: "Overrides the config's socket-dir.")
    var socketDir: String?

    @Option(name: .customLong("plugin-dir"), help: "A directory searched for plugins before the executable's own (repeatable).")
    var pluginDirs: [String] = []

    @Option(name: .long, help: "Loop threads the VMs are spread over (0: one per CPU); overrides the config's loops.")
    var loops: Int?

    @Option(name: .long, help: "Serve Prometheus metrics (/metrics) and the live fleet page (/) over HTTP at HOST:PORT, e.g. 127.0.0.1:9464.")
    var metrics: String?

    @Flag(name: .customLong("metrics-any-address"), help: "Allow --metrics on an address that is not loopback (anyone who reaches it sees the fleet).")
    var metricsAnyAddress = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() throws {
        let logger = LogSetup.bootstrap(level: logLevel)
        var fleetConfig: FleetConfig
        do {
            fleetConfig = try FleetConfig.load(path: config)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        if let socketDir { fleetConfig.socketDirectory = socketDir }
        fleetConfig.pluginDirectories = pluginDirs + fleetConfig.pluginDirectories
        let descriptors = ResourceLimits.raiseOpenFileLimit()
        // A VM's listening socket and each attached client take one
        // descriptor, a pty console one more; the process keeps some for itself.
        let room = max(0, descriptors - ResourceLimits.reservedDescriptors)
        logger.info("open-file limit \(descriptors): room for \(room) VM sockets and clients, e.g. \(room / 2) VMs with one client each")

        var metricsAddress: TCPAddress?
        if let metrics {
            do {
                let address = try TCPAddress(parsing: metrics)
                guard address.isLoopback || metricsAnyAddress else {
                    logger.critical("--metrics \(metrics) is not a loopback address; add --metrics-any-address to serve it there")
                    throw ExitCode(1)
                }
                metricsAddress = address
            } catch let error as UVError {
                logger.critical("--metrics: \(error)")
                throw ExitCode(1)
            }
        }

        signal(SIGPIPE, SIG_IGN)
        let loopCount = loops ?? fleetConfig.loops
        let fleet: FleetShards
        do {
            fleet = try FleetShards(config: fleetConfig, logger: logger,
                                    loops: loopCount == 0 ? FleetShards.defaultLoopCount : loopCount,
                                    frontEnds: FleetFrontEnds().withControlSocket().withProxies())
            // The fleet has the VM list now, and lets it go once they are made.
            fleetConfig.vms = []
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        // Signals are watched on shard 0, the calling thread's loop, from before
        // the first socket exists: a SIGTERM that comes once a client can see
        // the fleet shuts it down cleanly (it is handled when loop 0 runs),
        // never kills it with its socket files left behind.
        let loop = fleet.loops[0]
        var watchers: [SignalWatcher] = []
        for sig in [SIGINT, SIGTERM] {
            watchers.append(try SignalWatcher(loop: loop, signal: sig) {
                logger.info("signal \(sig): shutting down")
                for watcher in watchers { watcher.close() }
                fleet.shutdown()
            })
        }
        do {
            try fleet.start()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        var http: HTTPServer?
        if let metricsAddress {
            do {
                http = try Self.startHTTP(fleet: fleet, address: metricsAddress)
                logger.info("metrics and the fleet page on http://\(http?.address.description ?? "")/")
            } catch {
                logger.critical("--metrics \(metricsAddress): \(error)")
                fleet.shutdown()
                fleet.run()
                throw ExitCode(1)
            }
        }
        let configPath = config
        // The file is read and parsed on the thread pool (a config on a
        // slow disk, or 20,000 VMs of YAML, would hold shard 0's VMs);
        // the reload itself runs on the loop.
        watchers.append(try SignalWatcher(loop: loop, signal: SIGHUP) {
            let loaded = Locked<Result<FleetConfig, FleetError>?>(nil)
            loop.offload({
                let result: Result<FleetConfig, FleetError>
                do throws(FleetError) { result = .success(try FleetConfig.load(path: configPath)) } catch { result = .failure(error) }
                loaded.withLock { $0 = result }
            }, then: {
                switch loaded.withLock({ $0 }) {
                case .success(let fresh):
                    fleet.reload(vms: fresh.vms) { added, removed, failed in
                        logger.info("SIGHUP: reloaded \(configPath): \(added.count) VMs added, \(removed.count) removed")
                        for (name, error) in failed { logger.error("VM \(name) not started: \(error)") }
                    }
                case .failure(let error):
                    logger.error("SIGHUP: \(error); the fleet is unchanged")
                case nil:
                    break
                }
            })
        })
        // Free memory the fleet's bursts leave inside the C heap goes back
        // to the kernel (see HeapTrimmer), by the trimmer rather than at
        // every free of a large message's buffers.
        HeapTrimmer.keepFreedMemory()
        _ = HeapTrimmer(loop: loop, intervalMilliseconds: Self.heapTrimMilliseconds) { took in
            logger.debug("heap trimmed in \(took)")
        }
        fleet.run()
        http?.stop()
        logger.info("stopped")
    }

    /// The HTTP listener on its own loop and thread: nothing it does runs
    /// on a loop that serves VMs.
    private static func startHTTP(fleet: FleetShards, address: TCPAddress) throws -> HTTPServer {
        var site: FleetSite?
        let server = try HTTPServer(address: address, limits: HTTPServerLimits(fleet.config.limits)) { head, connection in
            site?.handle(head, connection)
        }
        site = FleetSite(fleet: fleet, loop: server.loop, limits: fleet.config.limits)
        server.start()
        return server
    }
}
