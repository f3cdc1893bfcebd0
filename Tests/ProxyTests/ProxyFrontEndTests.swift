import FleetCore
import Logging
import Proxy
import QMPFleetTesting
import Testing

/// FleetCore makes a proxied VM only through the maker the program handed
/// it (`FleetFrontEnds.withProxies()`); without it the VM fails, saying why.
@Suite struct ProxyFrontEndTests {
    private func proxiedSpec() -> VMSpec {
        var spec = VMSpec(name: "p")
        spec.proxy = ProxyUpstream(socketPath: "/tmp/qmpfleet-proxy-front-end-test.sock")
        return spec
    }

    private func router(_ frontEnds: FleetFrontEnds) throws -> Router {
        try Router(config: FleetConfig(), logger: Logger(label: "test"), scheduler: VirtualScheduler(), loop: nil,
                   frontEnds: frontEnds)
    }

    @Test func withoutTheProxyModuleAProxiedVMIsRefused() throws {
        let router = try router(FleetFrontEnds())
        #expect {
            try router.createVM(proxiedSpec())
        } throws: { error in
            "\(error)" == "VM 'p': proxy mode is not part of this program"
        }
    }

    /// With it, ProxyVM is made, and asks for the loop an in-process fleet lacks.
    @Test func withProxiesTheProxyModuleMakesTheVM() throws {
        let router = try router(FleetFrontEnds().withProxies())
        #expect {
            try router.createVM(proxiedSpec())
        } throws: { error in
            "\(error)" == "VM 'p': proxy mode needs the fleet's event loop"
        }
    }
}
