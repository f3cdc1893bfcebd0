import Foundation
import FleetConfigFile
import FleetControl
import FleetCore
import Logging
import QMPWire
import SharedValues
import Testing
import UVLoop

/// A fleet spread over several loop threads, driven through its real
/// sockets: every VM answers whichever loop it is on, and the control
/// socket (on shard 0) reaches VMs on the other shards.
@Suite(.serialized) struct FleetShardsTests {
    /// A fleet running on its own threads for the length of a test.
    final class RunningFleet {
        let fleet: FleetShards
        let directory: String
        private let stopped = DispatchSemaphore(value: 0)

        init(vms: Int, loops: Int, extra: String = "") throws {
            directory = "/tmp/qf-shards-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let config = try FleetConfig.parse(yaml: """
                socket-dir: \(directory)
                \(extra)
                vms: \(vms == 0 ? "[]" : "[{name: \"vm-{n}\", count: \(vms), plugins: {block: {}}}]")
                """, file: "test")
            fleet = try FleetShards(config: config, logger: Logger(label: "test"), loops: loops,
                                    frontEnds: FleetFrontEnds().withControlSocket())
            let started = DispatchSemaphore(value: 0)
            let box = UncheckedBox(fleet)
            let done = stopped
            Thread.detachNewThread {
                do { try box.fleet.start() } catch { Issue.record("start: \(error)") }
                started.signal()
                box.fleet.run()
                done.signal()
            }
            started.wait()
        }

        func stop() {
            let box = UncheckedBox(fleet)
            fleet.loops[0].execute { box.fleet.shutdown() }
            #expect(stopped.wait(timeout: .now() + 10) == .success)
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/vm-0.qmp"))
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// A negotiated client of `name` (`fleet` for the control socket).
        func client(_ name: String) throws -> LineClient {
            let client = try LineClient(path: "\(directory)/\(name).qmp")
            _ = try client.readLine()
            #expect(try client.call("qmp_capabilities")["return"] != nil)
            return client
        }
    }

    struct UncheckedBox: @unchecked Sendable {
        let fleet: FleetShards
        init(_ fleet: FleetShards) { self.fleet = fleet }
    }

    @Test func everyVMAnswersAndListsInConfigOrder() throws {
        let running = try RunningFleet(vms: 7, loops: 3)
        defer { running.stop() }
        #expect(running.fleet.loops.count == 3)
        for i in 0..<7 {
            let vm = try running.client("vm-\(i)")
            #expect(try vm.call("query-status")["return"]?["status"] == "running")
            #expect(try vm.call("query-name")["return"]?["name"] == .string("vm-\(i)"))
        }
        let control = try running.client("fleet")
        let names = try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == (0..<7).map { "vm-\($0)" })
    }

    @Test func theControlSocketReachesVMsOnEveryShard() throws {
        let running = try RunningFleet(vms: 4, loops: 2)
        defer { running.stop() }
        let control = try running.client("fleet")
        #expect(try control.call("vm-create", ["name": "extra"])["return"]?["name"] == "extra")
        #expect(try control.call("vm-create", ["name": "vm-3"])["error"]?["desc"] == "VM 'vm-3' already exists")
        let extra = try running.client("extra")
        #expect(try extra.call("query-status")["return"]?["running"] == true)
        for name in ["vm-0", "vm-1", "extra"] {
            #expect(try control.call("vm-destroy", ["name": .string(name)])["return"] != nil)
            #expect(try control.call("vm-destroy", ["name": .string(name)])["error"]?["desc"] == .string("VM '\(name)' not found"))
        }
        let names = try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["vm-2", "vm-3"])
        // The name is free again fleet-wide, whichever shard had it.
        #expect(try control.call("vm-create", ["name": "vm-0"])["return"]?["name"] == "vm-0")
    }

    @Test func aFleetThatStartsEmptyFillsEveryLoop() throws {
        // Loops with nothing open yet still take the work handed to them.
        let running = try RunningFleet(vms: 0, loops: 3)
        defer { running.stop() }
        let control = try running.client("fleet")
        for name in ["a", "b", "c", "d"] {
            #expect(try control.call("vm-create", ["name": .string(name)])["return"]?["name"] == .string(name))
        }
        let names = try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["a", "b", "c", "d"])
        for name in ["a", "b", "c", "d"] {
            #expect(try running.client(name).call("query-status")["return"]?["running"] == true)
        }
    }

    @Test func theVMLimitIsTheFleetsNotEachLoops() throws {
        let running = try RunningFleet(vms: 3, loops: 2, extra: "limits: {vms-per-fleet: 4}")
        defer { running.stop() }
        let control = try running.client("fleet")
        #expect(try control.call("vm-create", ["name": "a"])["return"] != nil)
        #expect(try control.call("vm-create", ["name": "b"])["error"]?["desc"] == "the fleet has 4 VMs (limit vms-per-fleet)")
    }

    @Test func eventsReachClientsOnTheirVMsLoop() throws {
        let running = try RunningFleet(vms: 2, loops: 2)
        defer { running.stop() }
        let watcher = try running.client("vm-1")
        let driver = try running.client("vm-1")
        let other = try running.client("vm-0")
        #expect(try driver.call("stop")["return"] != nil)
        #expect(try watcher.readLine()["event"] == "STOP")
        #expect(try other.call("query-status")["return"]?["status"] == "running")
    }

    @Test func reloadKeepsEachVMOnItsLoopAndSpreadsTheNewOnes() throws {
        let running = try RunningFleet(vms: 4, loops: 2)
        defer { running.stop() }
        let kept = try running.client("vm-1")
        #expect(try kept.call("stop")["return"] != nil)
        let removed = try running.client("vm-2")
        let fresh = try FleetConfig.parse(yaml: """
            vms: [{name: vm-0}, {name: vm-1}, {name: new-a}, {name: new-b}, {name: new-c}]
            """, file: "reload.yaml")
        let reported = DispatchSemaphore(value: 0)
        let change = Locked<(added: [String], removed: [String])>(([], []))
        let box = UncheckedBox(running.fleet)
        let specs = fresh.vms
        running.fleet.loops[0].execute {
            box.fleet.reload(vms: specs) { added, removed, failed in
                #expect(failed.isEmpty)
                change.withLock { $0 = (added.sorted(), removed.sorted()) }
                reported.signal()
            }
        }
        #expect(reported.wait(timeout: .now() + 10) == .success)
        #expect(change.withLock { $0.added } == ["new-a", "new-b", "new-c"])
        #expect(change.withLock { $0.removed } == ["vm-2", "vm-3"])
        // The kept VM kept its state and its client; the removed one told its client.
        #expect(try kept.call("query-status")["return"]?["status"] == "paused")
        #expect(try removed.readLine()["event"] == "SHUTDOWN")
        let control = try running.client("fleet")
        let names = try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["vm-0", "vm-1", "new-a", "new-b", "new-c"])
        for name in ["new-a", "new-b", "new-c"] {
            #expect(try running.client(name).call("query-status")["return"]?["running"] == true)
        }
    }

    @Test func aClientThatHalfClosesGetsEveryReply() throws {
        let running = try RunningFleet(vms: 2, loops: 2)
        defer { running.stop() }
        // Piped requests then end of file, as `printf ... | socat` sends
        // them: the control socket's answers come from other loops, later.
        let control = try LineClient(path: "\(running.directory)/fleet.qmp")
        _ = try control.readLine()
        try control.send(#"{"execute": "qmp_capabilities"}{"execute": "vm-create", "arguments": {"name": "piped"}}{"execute": "query-vms", "id": 3}"#)
        control.shutdownWrite()
        #expect(try control.readLine()["return"] != nil)
        #expect(try control.readLine()["return"]?["name"] == "piped")
        #expect(try control.readLine()["id"] == 3)
        #expect(control.readToEnd().isEmpty)
    }

    @Test func whatAClientSentBeforeClosingStillRuns() throws {
        let running = try RunningFleet(vms: 1, loops: 3)
        defer { running.stop() }
        // Sent, then gone without reading: each vm-create answers from
        // another loop, after the client has closed.
        do {
            let gone = try LineClient(path: "\(running.directory)/fleet.qmp")
            _ = try gone.readLine()
            try gone.send(#"{"execute": "qmp_capabilities"}"# + (1...3).map { #"{"execute": "vm-create", "arguments": {"name": "ff\#($0)"}}"# }.joined())
        }
        let control = try running.client("fleet")
        var names: [String] = []
        for _ in 0..<100 {
            names = try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            if names.count == 4 { break }
            usleep(10_000)
        }
        #expect(names == ["vm-0", "ff1", "ff2", "ff3"])
    }

    @Test func aVMHandedOverByAnEmulatorThatLeftAtOnceIsNotLeftBehind() throws {
        let running = try RunningFleet(vms: 0, loops: 2)
        defer { running.stop() }
        do {
            let emulator = try LineClient(path: "\(running.directory)/fleet.qmp")
            _ = try emulator.readLine()
            try emulator.send(#"{"execute": "qmp_capabilities"}{"execute": "vm-attach-monitor", "arguments": {"name": "emu", "monitor-path": "\#(running.directory)/emu.qmp"}}"#)
        }
        let control = try running.client("fleet")
        // Created, then ended with its emulator's session.
        var names: [String] = ["?"]
        for _ in 0..<100 {
            names = try control.call("query-vms")["return"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            if names.isEmpty { break }
            usleep(10_000)
        }
        #expect(names.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(running.directory)/emu.qmp"))
    }
}

/// A blocking QMP client over a unix socket, one JSON reply per line.
final class LineClient {
    private let fd: Int32
    private var pending: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw LineClientError("connect \(path): errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw LineClientError("send failed")
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    func readLine() throws -> JSONValue {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                return try JSONValue(parsing: line)
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { throw LineClientError(n == 0 ? "closed" : "read: errno \(errno)") }
            pending += buffer[..<n]
        }
    }

    /// Whatever arrives until the server closes.
    func readToEnd() -> [UInt8] {
        var rest = pending
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return rest }
            rest += buffer[..<n]
        }
    }

    /// Sends one command; returns its reply (events before it are skipped).
    func call(_ name: String, _ arguments: JSONObject? = nil) throws -> JSONValue {
        var request: JSONObject = ["execute": .string(name)]
        if let arguments { request["arguments"] = .object(arguments) }
        try send(JSONValue.object(request).jsonText)
        while true {
            let line = try readLine()
            if line["event"] == nil { return line }
        }
    }
}

struct LineClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
