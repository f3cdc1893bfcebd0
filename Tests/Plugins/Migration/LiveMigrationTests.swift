import QMPFleetTesting
import QMPWire
import Testing

/// The migration commands' state machine and QEMU 7.2's refusals, under
/// the virtual clock. An in-process fleet has no loop to watch sockets,
/// so the stream itself runs in Tests/protocol/test_live_migration.py;
/// here a migration ends before it needs one (bad URIs, a target that is
/// not listening). Texts checked against QEMU 7.2 on this machine.
@Suite struct LiveMigrationTests {
    let fleet: TestFleet
    let source: TestClient
    let target: TestClient

    init() throws {
        fleet = try TestFleet(yaml: """
            vms:
              - {name: src, machine: pc, memory: 64M, start-paused: true, plugins: {migration: {}}}
              - {name: dst, machine: pc, memory: 64M, start-paused: true, incoming: defer, plugins: {migration: {}}}
            """)
        source = fleet.negotiatedClient(to: "src")
        target = fleet.negotiatedClient(to: "dst")
    }

    func events(_ client: TestClient) -> [String] {
        client.takeEvents().compactMap { event in
            guard let name = event["event"]?.stringValue else { return nil }
            if let status = event["data"]?["status"]?.stringValue { return "\(name) \(status)" }
            if let pass = event["data"]?["pass"]?.int64Value { return "\(name) \(pass)" }
            return name
        }
    }

    func enableEvents(_ client: TestClient) {
        #expect(client.result("migrate-set-capabilities", ["capabilities": [["capability": "events", "state": true]]]) == [:])
    }

    @Test func incomingDeferStartsInInmigrate() throws {
        #expect(target.result("query-status")?["status"] == "inmigrate")
        #expect(source.result("query-status")?["status"] == "prelaunch")
    }

    @Test func contAndStopInInmigrateOnlySetAutostart() throws {
        // qmp_cont/qmp_stop: {} and no state change, no event.
        #expect(target.result("cont") == [:])
        #expect(target.result("stop") == [:])
        #expect(target.result("query-status")?["status"] == "inmigrate")
        #expect(events(target).isEmpty)
    }

    @Test func migrateIncomingRefusals() throws {
        #expect(source.errorPair("migrate-incoming", ["uri": "unix:/tmp/x"]) == ("GenericError", "'-incoming' was not specified on the command line"))
        // setup goes out whatever the events capability says, before the URI is read.
        #expect(target.errorPair("migrate-incoming", ["uri": "bogus:1"]) == ("GenericError", "unknown migration protocol: bogus:1"))
        #expect(events(target) == ["MIGRATION setup"])
        #expect(target.errorPair("migrate-incoming", ["uri": "fd:nosuch"]) == ("GenericError", "File descriptor named 'nosuch' has not been found"))
        #expect(events(target) == ["MIGRATION setup"])
        #expect(target.result("query-migrate") == [:])
        #expect(target.errorPair("migrate", ["uri": "unix:/tmp/x"]) == ("GenericError", "Guest is waiting for an incoming migration"))
    }

    @Test func badURIFailsAtOnce() throws {
        enableEvents(source)
        #expect(source.errorPair("migrate", ["uri": "bogus:1"]) == ("GenericError", "Parameter 'uri' expects a valid migration protocol"))
        #expect(events(source) == ["MIGRATION setup", "MIGRATION failed"])
        #expect(source.errorPair("migrate", ["uri": "unix:"]) == ("GenericError", "invalid Unix socket address"))
        #expect(source.errorPair("migrate", ["uri": "fd:nosuch"]) == ("GenericError", "File descriptor named 'nosuch' has not been found"))
        #expect(source.result("query-migrate") == ["status": "failed", "error-desc": "File descriptor named 'nosuch' has not been found"])
    }

    @Test func targetThatDoesNotListenFailsAfterTheReply() throws {
        enableEvents(source)
        let path = "/tmp/qmpfleet-no-such-\(UInt32.random(in: 0...UInt32.max)).sock"
        #expect(source.result("migrate", ["uri": .string("unix:\(path)")]) == [:])
        // The failure comes on a 0 ms timer after the reply. The test client
        // runs the loop's next turn while a session has deferred work (its
        // turn is 1 ms of real time), so on a loaded machine that turn may
        // already have fired it: read the events once the clock has moved.
        fleet.advance(by: 1)
        #expect(events(source) == ["MIGRATION setup", "MIGRATION failed"])
        #expect(source.result("query-migrate") == ["status": "failed", "error-desc": .string("Failed to connect to '\(path)': No such file or directory")])
        // A failed migration is over: a new one may start.
        #expect(source.result("migrate", ["uri": .string("unix:\(path)")]) == [:])
        fleet.advance(by: 1)
        #expect(source.result("query-status")?["status"] == "prelaunch")
    }

    @Test func withoutEventsCapabilityNoMigrationEvents() throws {
        #expect(source.errorPair("migrate", ["uri": "bogus:1"]).0 == "GenericError")
        #expect(events(source).isEmpty)
    }

    @Test func refusalsOutsideTheirState() throws {
        #expect(source.errorPair("migrate-continue", ["state": "pre-switchover"]) == ("GenericError", "Migration not in expected state: none"))
        #expect(source.errorPair("migrate-start-postcopy") == ("GenericError", "Enable postcopy with migrate_set_capability before the start of migration"))
        #expect(source.result("migrate-set-capabilities", ["capabilities": [["capability": "postcopy-ram", "state": true]]]) == [:])
        #expect(source.errorPair("migrate-start-postcopy") == ("GenericError", "Postcopy must be started after migration has been started"))
        #expect(source.errorPair("migrate-pause") == ("GenericError", "migrate-pause is currently only supported during postcopy-active state"))
        #expect(target.errorPair("migrate-pause") == ("GenericError", "migrate-pause is currently only supported during postcopy-active state"))
        #expect(target.errorPair("migrate-recover", ["uri": "unix:/tmp/x"]) == ("GenericError", "Migrate recover can only be run when postcopy is paused."))
        #expect(source.errorPair("migrate", ["uri": "unix:/tmp/x", "resume": true]) == ("GenericError", "Cannot resume if there is no paused migration"))
        #expect(source.result("migrate_cancel") == [:])
        #expect(source.result("query-migrate") == [:])
    }

    @Test func migratePauseAndRecoverAreAllowOOB() throws {
        let schema = source.result("query-qmp-schema")?.arrayValue ?? []
        for name in ["migrate-pause", "migrate-recover"] {
            #expect(schema.first { $0["name"]?.stringValue == name }?["allow-oob"] == true, "\(name)")
        }
        #expect(schema.first { $0["name"] == "migrate" }?["allow-oob"] == nil)
    }

    @Test func failMigrationGuestActionNeedsAMigration() throws {
        let reply = fleet.guestAction(vm: "src", plugin: "migration", action: "fail-migration")
        #expect(reply?["error"]?["desc"] == "no migration is running on this VM")
    }
}
