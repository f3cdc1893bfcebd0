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
        router = try Router(config: config, logger: logger, scheduler: clock, loop: nil)
        // A test fleet is strict: a VM that cannot start fails the test.
        if let failure = try router.start().first { throw failure.error }
    }

    public func vm(_ name: String) -> VM? { router.vms[name] }

    /// A new client attached to VM `name` (it has received the greeting).
    public func connect(to name: String) -> TestClient {
        let client = TestClient()
        if let vm = router.vms[name] { client.session = vm.attach(transport: client) }
        return client
    }

    /// A client of the fleet control plane.
    public func connectControl() -> TestClient {
        let client = TestClient()
        client.session = router.attachControl(transport: client)
        return client
    }

    public func advance(by milliseconds: UInt64) { clock.advance(by: milliseconds) }
}
