import FleetCore
import QMPFleetTesting
import QMPWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a control client must not do: start programs, name paths the
/// fleet connects to and removes, or put a VM's monitor outside the socket
/// directory.
@Suite struct ControlPlaneTakeOverTests {
    static let marker = "/tmp/qmpfleet-takeover-\(getpid())"

    @Test func vmCreateRefusesLaunchAndUpstream() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let control = fleet.connectControl()
        control.negotiate()
        let launch = control.call("vm-create", ["name": "evil", "config": [
            "backend": "proxy", "upstream": "/tmp/none.sock", "launch": ["/bin/touch", .string(Self.marker)],
        ]])
        #expect(launch?["error"] == ["class": "GenericError", "desc": "Parameter 'config.launch' is accepted only in the config file"])
        let upstream = control.call("vm-create", ["name": "evil", "config": ["backend": "proxy", "upstream": "/tmp/none.sock"]])
        #expect(upstream?["error"]?["desc"] == "Parameter 'config.upstream' is accepted only in the config file")
        #expect(access(Self.marker, F_OK) != 0)
        #expect(fleet.router.proxies.isEmpty)
        #expect(control.call("query-vms")?["return"] == [])
    }

    @Test func vmCreateRefusesAProxyTemplate() throws {
        let fleet = try TestFleet(yaml: """
            templates: {q: {backend: proxy, upstream: /tmp/qmpfleet-no-such-upstream.sock}}
            vms: []
            """)
        let control = fleet.connectControl()
        control.negotiate()
        #expect(control.call("vm-create", ["name": "p", "template": "q"])?["error"]?["desc"]
                == "a proxied VM comes only from the config file")
        #expect(fleet.router.proxies.isEmpty)
    }

    @Test func monitorPathMustBeInTheSocketDirectory() throws {
        let directory = "/tmp/qmpfleet-monitor-\(getpid())"
        let outside = "\(directory)-outside"
        mkdir(directory, 0o700)
        mkdir(outside, 0o700)
        // A symlink in the socket directory that leads out of it.
        let escape = "\(directory)/out"
        symlink(outside, escape)
        defer { unlink(escape); rmdir(outside); rmdir(directory) }
        let fleet = try TestFleet(yaml: "socket-dir: \(directory)\nvms: []")
        let control = fleet.connectControl()
        control.negotiate()
        for path in ["\(outside)/m.sock", "\(escape)/m.sock", "\(directory)/../m.sock", "\(directory)/sub/m.sock",
                     "relative.sock", "\(directory)/", "/etc/m.sock"] {
            let reply = control.call("vm-attach-monitor", ["name": "dom", "monitor-path": .string(path)])
            #expect(reply?["error"]?["desc"] == .string("Parameter 'monitor-path' must name a socket in \(directory)"), "\(path)")
        }
        #expect(fleet.vm("dom") == nil)
        #expect(control.call("vm-attach-monitor", ["name": "dom", "monitor-path": .string("\(directory)/dom.sock")])?["return"] != nil)
    }
}
