import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// Migration parameters, capabilities and the seed/xen/COLO commands,
/// compared with QEMU 7.2 (-machine pc, 128 MiB unless said otherwise).
@Suite struct MigrationTests {
    let fleet: TestFleet
    let client: TestClient

    init(memory: String = "1G", migration: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, machine: pc, memory: \(memory), plugins: {migration: \(migration)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }
    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    @Test func queryMigrateBeforeAnyMigrationIsEmpty() throws {
        #expect(ok("query-migrate") == [:])
    }

    @Test func defaultParametersAsQEMU() throws {
        let p = ok("query-migrate-parameters")?.objectValue ?? [:]
        #expect(p.count == 26)
        #expect(p["xbzrle-cache-size"] == 67_108_864)
        #expect(p["max-bandwidth"] == 134_217_728)
        #expect(p["downtime-limit"] == 300)
        #expect(p["tls-creds"] == "")
        #expect(p["multifd-compression"] == "none")
        #expect(p["block-bitmap-mapping"] == nil)
    }

    @Test func cacheSizeCommandsFollowTheParameter() throws {
        #expect(ok("query-migrate-cache-size") == 67_108_864)
        #expect(ok("migrate-set-cache-size", ["value": 536_870_912]) == [:])
        #expect(ok("query-migrate-cache-size") == 536_870_912)
        #expect(ok("query-migrate-parameters")?["xbzrle-cache-size"] == 536_870_912)
        // Rounded down to a power of two, as the seed says.
        #expect(ok("migrate-set-cache-size", ["value": 100_000_000]) == [:])
        #expect(ok("query-migrate-parameters")?["xbzrle-cache-size"] == 67_108_864)
        #expect(ok("migrate-set-parameters", ["xbzrle-cache-size": 8192]) == [:])
        #expect(ok("query-migrate-cache-size") == 8192)
        #expect(error("migrate-set-cache-size", ["value": 100]) == ("GenericError", "Parameter 'cache size' expects is smaller than page size"))
        #expect(error("migrate-set-cache-size", ["value": 4_294_967_296]) == ("GenericError", "Parameter 'cache size' expects exceeds guest ram size "))
    }

    @Test func parameterChecksAsQEMU() throws {
        let cases: [(String, JSONValue, String)] = [
            ("xbzrle-cache-size", 1000, "Parameter 'xbzrle_cache_size' expects a power of two no less than the target page size"),
            ("compress-level", 10, "Parameter 'compress_level' expects a value between 0 and 9"),
            ("compress-threads", 0, "Parameter 'compress_threads' expects a value between 1 and 255"),
            ("throttle-trigger-threshold", 101, "Parameter 'throttle_trigger_threshold' expects an integer in the range of 1 to 100"),
            ("cpu-throttle-initial", 0, "Parameter 'cpu_throttle_initial' expects an integer in the range of 1 to 99"),
            ("downtime-limit", 2_000_001, "Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms"),
            ("multifd-channels", 0, "Parameter 'multifd_channels' expects a value between 1 and 255"),
            ("max-cpu-throttle", 100, "Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99"),
            ("announce-step", 10001, "Parameter 'announce_step' expects a value between 0 and 10000"),
            ("compress-threads", 256, "Parameter 'compress-threads' expects uint8_t"),
        ]
        for (name, value, text) in cases {
            #expect(error("migrate-set-parameters", [name: value]) == ("GenericError", text), "\(name)")
        }
        // Checked against the values after the request: nothing applied on failure.
        #expect(error("migrate-set-parameters", ["compress-level": 3, "compress-threads": 0]) == ("GenericError", "Parameter 'compress_threads' expects a value between 1 and 255"))
        #expect(ok("query-migrate-parameters")?["compress-level"] == 1)
        #expect(error("migrate-set-parameters", ["max-cpu-throttle": 50, "cpu-throttle-initial": 60]).1 == "Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99")
    }

    @Test func parametersApplyAsQEMU() throws {
        #expect(ok("migrate-set-parameters", ["tls-creds": "x", "max-bandwidth": -1, "multifd-zlib-level": 5, "block-bitmap-mapping": []]) == [:])
        let p = ok("query-migrate-parameters")
        #expect(p?["tls-creds"] == "x")
        #expect(p?["max-bandwidth"] == .uint(UInt64.max))
        #expect(p?["multifd-zlib-level"] == 1)          // QEMU 7.2 drops it
        #expect(p?["block-bitmap-mapping"] == [])
        #expect(ok("migrate-set-parameters", ["tls-creds": nil]) == [:])
        #expect(ok("query-migrate-parameters")?["tls-creds"] == "")
    }

    @Test func capabilities() throws {
        let initial = ok("query-migrate-capabilities")?.arrayValue ?? []
        #expect(initial.count == 21)
        #expect(initial.first == ["capability": "xbzrle", "state": false])
        #expect(ok("migrate-set-capabilities", ["capabilities": [["capability": "xbzrle", "state": true], ["capability": "postcopy-ram", "state": true]]]) == [:])
        let after = ok("query-migrate-capabilities")?.arrayValue ?? []
        #expect(after.filter { $0["state"] == true }.map { $0["capability"] } == ["xbzrle", "postcopy-ram"])
        #expect(error("migrate-set-capabilities", ["capabilities": [["capability": "nosuch", "state": true]]]) == ("GenericError", "Parameter 'capability' does not accept value 'nosuch'"))
    }

    @Test func xenAndCOLO() throws {
        #expect(error("xen-load-devices-state", ["filename": "/tmp/no-such-resume-file"]) == ("GenericError", "Unable to open /tmp/no-such-resume-file: No such file or directory"))
        let path = "/tmp/migration-test-\(getpid())"
        FileManager.default.createFile(atPath: path, contents: Data("garbage".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(error("xen-load-devices-state", ["filename": .string(path)]) == ("GenericError", "An IO error has occurred"))
        FileManager.default.createFile(atPath: path, contents: Data("QEVM\0\0\0\u{3}".utf8))
        #expect(ok("xen-load-devices-state", ["filename": .string(path)]) == [:])
        #expect(ok("xen-set-global-dirty-log", ["enable": true]) == [:])
        #expect(error("x-colo-lost-heartbeat") == ("GenericError", "The feature 'colo' is not enabled"))
    }

    @Test func configCacheSize() throws {
        let vm = try MigrationTests(migration: "{xbzrle-cache-size: 1048576}")
        #expect(vm.ok("query-migrate-cache-size") == 1_048_576)
        #expect(throws: (any Error).self) { try MigrationTests(migration: "{xbzrle-cache-size: 1000}") }
        #expect(throws: (any Error).self) { try MigrationTests(migration: "{bogus: 1}") }
    }
}
