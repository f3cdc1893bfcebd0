import FleetCore
import QMPFleetTesting
import QMPServer
import QMPWire
import Testing

/// `vm-attach-monitor`: the control command through which `qmpfleet-emulator`
/// hands a libvirt-started VM to a running fleet. The VM belongs to the
/// emulator's control session: each ends the other.
@Suite struct VMAttachMonitorTests {
    /// A control client whose session the test holds, so it can "die".
    final class Emulator {
        let transport = TestClient()
        let session: Session?
        let socketDirectory: String
        let fleet: TestFleet
        var next = 1

        init(_ fleet: TestFleet) {
            self.fleet = fleet
            socketDirectory = fleet.router.config.socketDirectory
            session = fleet.router.attachControl(transport: transport)
            _ = call("qmp_capabilities")
        }

        func call(_ name: String, _ arguments: JSONObject? = nil) -> JSONValue? {
            var request: JSONObject = ["execute": .string(name), "id": .int(Int64(next))]
            if let arguments { request["arguments"] = .object(arguments) }
            next += 1
            let bytes = Array(JSONValue.object(request).jsonText.utf8)
            bytes.withUnsafeBytes { session?.receive($0) }
            // The loop's next turns: what the session left when its turn ran out.
            while session?.hasDeferredWork == true { fleet.advance(by: 0) }
            return transport.received.last { $0["id"] == request["id"] }
        }
    }

    static let plugins: JSONObject = ["block": [:], "chardev": [:]]

    func attach(_ emulator: Emulator, name: String, commands: [JSONValue] = []) -> JSONValue? {
        emulator.call("vm-attach-monitor", [
            "name": .string(name), "monitor-path": .string("\(emulator.socketDirectory)/unused.sock"),
            "config": ["machine": "pc", "start-paused": true, "plugins": .object(Self.plugins)],
            "commands": .array(commands), "vcpu-thread-ids": [4242],
        ])
    }

    @Test func replaysTheCommandLineBeforeReturning() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let emulator = Emulator(fleet)
        let reply = attach(emulator, name: "dom", commands: [
            ["execute": "blockdev-add", "option": "-blockdev {...}",
             "arguments": ["driver": "null-co", "node-name": "n0"]],
        ])
        #expect(reply?["return"]?["vm"]?["status"] == "prelaunch")
        let vm = try #require(fleet.vm("dom"))
        var nodes: CommandResult?
        vm.execute("query-named-block-nodes", nil) { nodes = $0 }
        guard case .success(.array(let list))? = nodes else { Issue.record("no nodes"); return }
        #expect(list.contains { $0["node-name"] == "n0" })
        var cpus: CommandResult?
        vm.execute("query-cpus-fast", nil) { cpus = $0 }
        guard case .success(.array(let threads))? = cpus else { Issue.record("no cpus"); return }
        #expect(threads.first?["thread-id"] == 4242)
    }

    @Test func aRefusedOptionFailsWithQEMUsTextAndLeavesNoVM() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let emulator = Emulator(fleet)
        let reply = attach(emulator, name: "dom", commands: [
            ["execute": "device_add", "option": "-device virtio-blk-pci,drive=nope",
             "arguments": ["driver": "virtio-blk-pci", "drive": "nope"]],
        ])
        let desc = reply?["error"]?["desc"]?.stringValue ?? ""
        #expect(desc.hasPrefix("-device virtio-blk-pci,drive=nope: "))
        #expect(fleet.vm("dom") == nil)
    }

    @Test func aLongCommandLineRunsWithoutRecursionAndATooLongOneIsRefused() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let emulator = Emulator(fleet)
        let step: JSONValue = ["execute": "query-status", "option": "-x"]
        let long = attach(emulator, name: "long", commands: [JSONValue](repeating: step, count: CommandLineReplay.maxSteps))
        #expect(long?["return"]?["vm"]?["name"] == "long")
        let tooLong = attach(emulator, name: "toolong", commands: [JSONValue](repeating: step, count: CommandLineReplay.maxSteps + 1))
        #expect(tooLong?["error"]?["desc"] == .string("too many command-line options (\(CommandLineReplay.maxSteps + 1); at most \(CommandLineReplay.maxSteps))"))
        #expect(fleet.vm("toolong") == nil)
    }

    @Test func withoutAMonitorNothingIsCreated() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let emulator = Emulator(fleet)
        let reply = emulator.call("vm-attach-monitor", ["name": "dom"])
        #expect(reply?["error"]?["desc"] == "No file descriptor supplied via SCM_RIGHTS and no 'monitor-path'")
        #expect(fleet.vm("dom") == nil)
    }

    @Test func theVMEndsWhenTheEmulatorProcessDies() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let emulator = Emulator(fleet)
        #expect(attach(emulator, name: "dom")?["return"] != nil)
        let watcher = fleet.connect(to: "dom")
        watcher.negotiate()
        emulator.session?.transportDidClose()
        #expect(fleet.vm("dom") == nil)
        #expect(watcher.received.contains { $0["event"] == "SHUTDOWN" })
    }

    @Test func theEmulatorsConnectionClosesWhenTheVMQuits() throws {
        let fleet = try TestFleet(yaml: "vms: []")
        let emulator = Emulator(fleet)
        let other = Emulator(fleet)
        #expect(attach(emulator, name: "dom")?["return"] != nil)
        let client = fleet.connect(to: "dom")
        client.negotiate()
        _ = client.call("quit")
        fleet.advance(by: 1000)
        #expect(fleet.vm("dom") == nil)
        #expect(emulator.transport.isClosed)
        #expect(!other.transport.isClosed)
    }
}
