@testable import FleetCore
@testable import PluginHost
import Foundation
import QMPFleetTesting
import QMPWire
import Testing

/// Plugins built out of tree from the ABI header alone, and every load error.
@Suite(.serialized)
struct PluginLoaderTests {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let include = root.appendingPathComponent("Sources/QMPPluginABI/include").path

    /// Compiles C source into `dir/libqmp-<name>.so` with only the ABI header.
    static func buildPlugin(_ name: String, source: String, in dir: String) throws {
        let src = "\(dir)/\(name).c"
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-I", include, src, "-o", "\(dir)/libqmp-\(name).so"]
        try cc.run()
        cc.waitUntilExit()
        #expect(cc.terminationStatus == 0)
    }

    static func makeDir() -> String {
        let dir = "/tmp/qft-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func exampleSource() throws -> String {
        try String(contentsOf: root.appendingPathComponent("Examples/CPlugin/hello.c"), encoding: .utf8)
    }

    @Test func cExamplePluginLoadsAnswersAndStaysInItsVM() throws {
        let dir = Self.makeDir()
        try Self.buildPlugin("hello", source: try Self.exampleSource(), in: dir)
        let fleet = try TestFleet(yaml: "vms: [{name: with, plugins: [hello]}, {name: without}]", pluginDirectories: [dir])
        let a = fleet.connect(to: "with"), b = fleet.connect(to: "with")
        a.negotiate()
        b.negotiate()
        #expect(a.call("x-hello", ["name": "fleet"])?["return"] == ["greeting": "hello, fleet", "count": 1])
        #expect(b.call("x-hello")?["return"] == ["greeting": "hello, world", "count": 2])
        let commands = a.call("query-commands")?["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(commands.contains("x-hello"))
        let schema = a.call("query-qmp-schema")?["return"]?.arrayValue ?? []
        #expect(schema.contains { $0["name"] == "x-hello" && $0["meta-type"] == "command" })
        #expect(schema.contains { $0["name"] == "HELLO_WAVED" && $0["meta-type"] == "event" })

        let other = fleet.connect(to: "without")
        other.negotiate()
        let otherCommands = other.call("query-commands")?["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(!otherCommands.contains("x-hello"))
        #expect(other.call("x-hello")?["error"]?["class"] == "CommandNotFound")

        // A guest action on the control plane reaches every client of that VM.
        let control = fleet.connectControl()
        control.negotiate()
        #expect(control.call("guest-action", ["vm": "with", "plugin": "hello", "action": "wave"])?["return"] == .object([:]))
        #expect(a.takeEvents().map { $0["data"] } == [["count": 2]])
        #expect(b.takeEvents().map { $0["event"] } == ["HELLO_WAVED"])
        #expect(other.takeEvents().isEmpty)
        // Built for ABI 2, it reads the arguments as the client wrote them.
        a.write(#"{"execute":"x-hello","arguments":{"name":"compact"},"id":99}"#)
        #expect(a.reply(id: 99)?["return"] == ["greeting": "hello, compact", "count": 3])
    }

    @Test func vmCreateAtRunTimeBehavesLikeConfig() throws {
        let dir = Self.makeDir()
        try Self.buildPlugin("hello", source: try Self.exampleSource(), in: dir)
        let fleet = try TestFleet(yaml: "vms: []", pluginDirectories: [dir])
        let control = fleet.connectControl()
        control.negotiate()
        let created = control.call("vm-create", ["name": "late", "config": ["plugins": ["hello"], "start-paused": true]])
        #expect(created?["return"]?["status"] == "prelaunch")
        #expect(control.call("vm-create", ["name": "late"])?["error"]?["desc"] == "VM 'late' already exists")
        #expect(control.call("vm-create", ["name": "a/b"])?["error"] != nil)
        #expect(control.call("vm-create", ["name": "x", "config": ["plugins": ["nosuch"]]])?["error"]?["desc"]?.stringValue?.contains("plugin 'nosuch'") == true)
        let client = fleet.connect(to: "late")
        client.negotiate()
        #expect(client.call("x-hello")?["return"]?["count"] == 1)
        #expect(control.call("query-vms")?["return"]?.arrayValue?.first?["plugins"] == ["hello"])
        #expect(control.call("vm-destroy", ["name": "late"])?["return"] == .object([:]))
        #expect(fleet.vm("late") == nil)
    }

    /// Each load error names the plugin and says what is wrong.
    @Test func loadErrorsNameThePluginAndTheProblem() throws {
        let dir = Self.makeDir()
        let example = try Self.exampleSource()
        try Self.buildPlugin("nosym", source: "int unrelated(void) { return 1; }", in: dir)
        try Self.buildPlugin("abi", source: example.replacingOccurrences(of: ".abi_version = QMP_PLUGIN_ABI_VERSION", with: ".abi_version = 99")
            .replacingOccurrences(of: "\"hello\"", with: "\"abi\""), in: dir)
        try Self.buildPlugin("dup", source: example.replacingOccurrences(of: ".name = \"hello\"", with: ".name = \"dup\""), in: dir)
        try Self.buildPlugin("hello", source: example, in: dir)
        try Self.buildPlugin("failing", source: example.replacingOccurrences(of: ".name = \"hello\"", with: ".name = \"failing\"")
            .replacingOccurrences(of: "    host = api;", with: "    snprintf(err, err_len, \"no licence\"); return -1;"), in: dir)
        try "not an ELF file".write(toFile: "\(dir)/libqmp-garbage.so", atomically: true, encoding: .utf8)

        let fleet = try TestFleet(yaml: "vms: [{name: ok, plugins: [hello]}]", pluginDirectories: [dir])
        func createError(_ plugin: String) -> String {
            do {
                var spec = VMSpec(name: "vm-\(plugin)")
                spec.plugins = [plugin: [:]]
                try fleet.router.createVM(spec)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(createError("missing").contains("plugin 'missing': libqmp-missing.so not found"))
        #expect(createError("garbage").contains("plugin 'garbage' (\(dir)/libqmp-garbage.so)"))
        #expect(createError("garbage").contains("invalid ELF header") || createError("garbage").contains("file too short"))
        #expect(createError("nosym").contains("no qmp_plugin_entry"))
        #expect(createError("abi").contains("ABI version 99, but this host speaks versions 1 to 2"))
        #expect(createError("dup").contains("command 'x-hello' is already registered by plugin 'hello'"))
        #expect(createError("failing").contains("init failed: no licence"))
        // The VM that uses a good plugin keeps working.
        let client = fleet.connect(to: "ok")
        client.negotiate()
        #expect(client.call("x-hello")?["return"]?["count"] == 1)
    }

    /// A plugin is code the fleet runs: a library or directory another
    /// user could change is refused, with the reason.
    @Test func pluginsOthersCanWriteAreRefused() throws {
        let example = try Self.exampleSource()
        let shared = Self.makeDir()
        try Self.buildPlugin("hello", source: example, in: shared)
        chmod(shared, 0o777)
        let writableFile = Self.makeDir()
        chmod(writableFile, 0o755)
        try Self.buildPlugin("hello", source: example, in: writableFile)
        chmod("\(writableFile)/libqmp-hello.so", 0o664)
        let owned = Self.makeDir()
        chmod(owned, 0o755)
        try Self.buildPlugin("hello", source: example, in: owned)

        func loadError(_ dir: String) -> String {
            let loader = PluginLoader(searchPath: [dir], core: try! CoreCommands.loadSchema())
            do {
                _ = try loader.library(named: "hello")
                return ""
            } catch {
                return error.description
            }
        }
        #expect(loadError(shared).contains("its directory \(shared) is writable by other users (mode 777)"))
        #expect(loadError(writableFile).contains("the file \(writableFile)/libqmp-hello.so is writable by its group (mode 664)"))
        #expect(loadError(shared).contains("a plugin is code the fleet runs"))
        #expect(loadError(owned) == "")
        #expect(PluginFileTrust.refusal(for: "\(owned)/libqmp-hello.so", uid: getuid() &+ 1) == (getuid() == 0 ? nil : "the file \(owned)/libqmp-hello.so belongs to uid \(getuid()), not to the fleet's user (uid \(getuid() &+ 1)) or root"))
    }
}
