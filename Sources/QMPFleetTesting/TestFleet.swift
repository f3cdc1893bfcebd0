import FleetConfigFile
import FleetControl
import FleetCore
import Logging
import QMPWire

/// An in-process fleet under a virtual clock: no sockets, no loop thread.
/// Plugins are loaded from the test bundle's directory, where SwiftPM puts them.
///
/// ```swift
/// let fleet = try TestFleet(yaml: "vms: [{name: vm0, plugins: [block]}]")
/// let client = fleet.connect(to: "vm0")
/// client.negotiate()
/// client.call("stop")      // {"return": {}}
/// client.takeEvents()      // [STOP]
/// ```
///
/// The fleet ends when the last reference to it goes (or at `shutdown()`),
/// as a SIGTERM ends a real one: every VM is destroyed through
/// `Router.destroyVM` (its plugins' `vm_destroy` runs, its clients close),
/// and the control plane's clients close. Plugin instances hold memory the
/// host cannot see, so a fleet that was simply dropped would leak it.
public final class TestFleet {
    public let router: Router
    public let clock: VirtualScheduler
    /// The control-plane client `guestAction` speaks through, made on first use.
    var guestActionClient: TestClient?

    public init(yaml: String, pluginDirectories: [String] = []) throws {
        var config = try FleetConfig.parse(yaml: yaml, file: "test.yaml")
        config.pluginDirectories = pluginDirectories + config.pluginDirectories
        var logger = Logger(label: "test-fleet")
        logger.logLevel = .warning
        clock = VirtualScheduler()
        router = try Router(config: config, logger: logger, scheduler: clock, loop: nil,
                            frontEnds: FleetFrontEnds().withControlSocket())
        // A test fleet is strict: a VM that cannot start fails the test.
        if let failure = try router.start().first { throw failure.error }
    }

    public func vm(_ name: String) -> VM? { router.vms[name] }

    /// A new client attached to VM `name` (it has received the greeting).
    public func connect(to name: String) -> TestClient {
        let client = TestClient(nextTurn: { [weak clock] in clock?.advance(by: 0) })
        if let vm = router.vms[name] { client.session = vm.attach(transport: client) }
        return client
    }

    /// A client of the fleet control plane.
    public func connectControl() -> TestClient {
        let client = TestClient(nextTurn: { [weak clock] in clock?.advance(by: 0) })
        client.session = router.attachControl(transport: client)
        return client
    }

    public func advance(by milliseconds: UInt64) { clock.advance(by: milliseconds) }

    /// Ends the fleet as SIGTERM would: clients get SHUTDOWN (`host-signal`)
    /// and are closed, every VM is destroyed and its plugin instances with
    /// it. Idempotent; runs by itself when the fleet is released.
    public func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        router.shutdown()
    }

    private var isShutDown = false

    deinit { shutdown() }
}
