import FleetControl
import FleetCore
import Logging
@testable import QMPFleetTesting
import QMPWire
import Testing

/// FleetCore has a control socket only when the program builds the fleet
/// with FleetControl's `withControlSocket()`.
@Suite struct ControlFrontEndTests {
    private func router(_ frontEnds: FleetFrontEnds) throws -> Router {
        try Router(config: FleetConfig(), logger: Logger(label: "test"), scheduler: VirtualScheduler(), loop: nil,
                   frontEnds: frontEnds)
    }

    @Test func withoutTheModuleAFleetHasNoControlSocket() throws {
        #expect(try router(FleetFrontEnds()).attachControl(transport: TestClient()) == nil)
    }

    @Test func withTheControlSocketAClientIsServed() throws {
        let router = try router(FleetFrontEnds().withControlSocket())
        let client = TestClient()
        client.session = router.attachControl(transport: client)
        #expect(client.negotiate() != nil)
        #expect(client.call("query-vms")?["return"] == .array([]))
        #expect(client.call("vm-destroy", ["name": "none"])?["error"]?["desc"] == .string("VM 'none' not found"))
    }
}
