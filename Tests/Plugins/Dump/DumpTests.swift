import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// dump-guest-memory, query-dump and friends compared with QEMU 7.2 (-machine pc, 128 MiB).
@Suite struct DumpTests {
    let fleet: TestFleet
    let client: TestClient

    init(_ vm: String = "machine: pc, memory: 128M", dump: String = "{}") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, \(vm), plugins: {dump: \(dump)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }
    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    static func path(_ name: String) -> String { "/tmp/dump-test-\(getpid())-\(name)" }

    @Test func capabilityAndIdleQuery() throws {
        #expect(ok("query-dump-guest-memory-capability") == ["formats": ["elf", "kdump-zlib", "win-dmp"]])
        #expect(ok("query-dump") == ["status": "none", "completed": 0, "total": 0])
    }

    @Test func dumpWritesASparseELFCoreAndCompletesBeforeTheReply() throws {
        let file = DumpTests.path("a.core")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let id = client.execute("dump-guest-memory", ["paging": false, "protocol": .string("file:" + file)])
        #expect(client.reply(id: id) == nil)
        fleet.advance(by: 10)
        // Another client sees the dump in progress.
        let other = fleet.negotiatedClient(to: "vm0")
        let progress = other.call("query-dump")?["return"]
        #expect(progress?["status"] == "active")
        #expect(progress?["completed"] == 33_554_432)
        #expect(progress?["total"] == 134_217_728)
        #expect(other.call("dump-guest-memory", ["paging": false, "protocol": .string("file:" + file + "2")])?["error"]?["desc"] == "There is a dump in process, please wait.")
        fleet.advance(by: 100)
        let messages = client.drain()
        let event = messages.firstIndex { $0["event"] == "DUMP_COMPLETED" }
        let reply = messages.firstIndex { $0["id"] == .int(Int64(id)) }
        #expect(event != nil && reply != nil && event! < reply!)
        #expect(messages[event!]["data"] == ["result": ["status": "completed", "completed": 134_217_728, "total": 134_217_728]])
        #expect(messages[reply!]["return"] == [:])
        #expect(ok("query-dump")?["status"] == "completed")

        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o400)
        var info = stat()
        #expect(stat(file, &info) == 0)
        #expect(info.st_size > 134_217_728)
        #expect(Int(info.st_blocks) * 512 < 1 << 20)     // sparse: holes for untouched RAM
        let handle = try #require(FileHandle(forReadingAtPath: file))
        let header = [UInt8](handle.readData(ofLength: 20))
        #expect(Array(header.prefix(6)) == [0x7f, 0x45, 0x4c, 0x46, 2, 1])
        #expect(header[16] == 4 && header[18] == 62)      // ET_CORE, EM_X86_64
    }

    @Test func detachedDumpReturnsAtOnce() throws {
        let file = DumpTests.path("b.core")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(ok("dump-guest-memory", ["paging": false, "protocol": .string("file:" + file), "detach": true]) == [:])
        #expect(ok("query-dump")?["status"] == "active")
        fleet.advance(by: 200)
        #expect(client.takeEvents().map { $0["event"] } == ["DUMP_COMPLETED"])
        #expect(ok("query-dump") == ["status": "completed", "completed": 134_217_728, "total": 134_217_728])
    }

    @Test func filterAndFormats() throws {
        let file = DumpTests.path("c.core")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(ok("dump-guest-memory", ["paging": false, "protocol": .string("file:" + file), "begin": 0, "length": 4096, "detach": true]) == [:])
        fleet.advance(by: 20)
        #expect(ok("query-dump") == ["status": "completed", "completed": 4096, "total": 4096])
        try? FileManager.default.removeItem(atPath: file)
        #expect(ok("dump-guest-memory", ["paging": false, "protocol": .string("file:" + file), "format": "kdump-zlib", "detach": true]) == [:])
        fleet.advance(by: 200)
        let head = [UInt8](FileManager.default.contents(atPath: file) ?? Data())
        #expect(Array(head.prefix(12)) == Array("makedumpfile".utf8))
        #expect(Array(head[4112..<4120]) == Array("KDUMP   ".utf8))
    }

    @Test func errorsAsQEMU() throws {
        let file = DumpTests.path("d.core")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let target: JSONValue = .string("file:" + file)
        let cases: [(JSONObject, String)] = [
            (["protocol": .string(file)], "Invalid parameter 'protocol'"),
            (["protocol": "fd:nosuch"], "File descriptor named 'nosuch' has not been found"),
            (["protocol": .string("file:/tmp/no-such-dir-\(getpid())/d.core")], "Could not open '/tmp/no-such-dir-\(getpid())/d.core': No such file or directory"),
            (["protocol": "file:/etc/d.core"], "Could not open '/etc/d.core': Permission denied"),
            (["protocol": target, "begin": 0], "Parameter 'length' is missing"),
            (["protocol": target, "length": 4096], "Parameter 'begin' is missing"),
            (["protocol": target, "begin": 0, "length": 0], "Invalid parameter 'length'"),
            (["protocol": target, "begin": 999_999_999_999, "length": 10], "dump: no guest memory to dump"),
            (["protocol": target, "format": "kdump-zlib", "begin": 0, "length": 4096], "kdump-compressed format doesn't support paging or filter"),
            (["protocol": target, "format": "kdump-lzo"], "kdump-lzo is not available now"),
            (["protocol": target, "format": "kdump-snappy"], "kdump-snappy is not available now"),
            (["protocol": target, "format": "win-dmp"], "win-dump: invalid vmcoreinfo note size"),
        ]
        for (args, text) in cases {
            var full = args
            full["paging"] = false
            #expect(error("dump-guest-memory", full) == ("GenericError", text), "\(args)")
        }
        #expect(error("dump-guest-memory", ["protocol": target]) == ("GenericError", "Parameter 'paging' is missing"))
        #expect(error("dump-guest-memory", ["paging": true, "protocol": target, "format": "kdump-zlib"]).1 == "kdump-compressed format doesn't support paging or filter")
        #expect(ok("query-dump")?["status"] == "none")
    }

    @Test func namedFdTarget() throws {
        let file = DumpTests.path("e.core")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        fleet.vm("vm0")?.fdSets.setNamed("dump", fd: fd)
        #expect(ok("dump-guest-memory", ["paging": false, "protocol": "fd:dump", "detach": true]) == [:])
        fleet.advance(by: 200)
        #expect(ok("query-dump")?["status"] == "completed")
        // The fd was taken: a second use does not find it.
        #expect(error("dump-guest-memory", ["paging": false, "protocol": "fd:dump"]).1 == "File descriptor named 'dump' has not been found")
        let head = [UInt8](FileManager.default.contents(atPath: file)?.prefix(4) ?? Data())
        #expect(head == [0x7f, 0x45, 0x4c, 0x46])
    }

    @Test func failedWriteIsReported() throws {
        let file = DumpTests.path("f.core")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fd = open(file, O_RDONLY | O_CREAT, 0o600)
        fleet.vm("vm0")?.fdSets.setNamed("ro", fd: fd)
        #expect(error("dump-guest-memory", ["paging": false, "protocol": "fd:ro"]) == ("GenericError", "dump: failed to write elf header"))
        #expect(ok("query-dump")?["status"] == "failed")
        #expect(client.takeEvents().first?["data"]?["error"] == "dump: failed to write elf header")
    }

    @Test func storageKeysOnS390Only() throws {
        #expect(error("dump-skeys", ["filename": "/tmp/skeys"]) == ("CommandNotFound", "The command dump-skeys has not been found"))
    }

    /// The VM refuses to start with the plugin's own words (PluginConfig's checks).
    @Test(arguments: [
        ("5", "dump: expected a mapping"),
        ("{step: 5, bytes-per-step: 1}", "dump: unknown key 'step' (expected 'bytes-per-step', 'step-ms')"),
        ("{bytes-per-step: 4095}", "dump: 'bytes-per-step' must be an integer of at least 4096"),
        ("{step-ms: yes}", "dump: 'step-ms' must be a positive integer"),
    ])
    func badConfigSaysWhy(dump: String, message: String) {
        let error = #expect(throws: (any Error).self) { try DumpTests(dump: dump) }
        #expect(error.map { "\($0)".hasSuffix(message) } == true)
    }
}
