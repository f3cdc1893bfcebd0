import ArgumentParser
import Foundation
import Histogram
import SharedValues

/// `qmpfleet-bench`: qmpfleet against real QEMU 7.2 side by side, in one run.
///
/// ```
/// $ swift run -c release qmpfleet-bench --output bench-results
/// | scenario | metric | qmpfleet | peer | peer value | ratio |
/// ...
/// ```
/// Prints a Markdown table and writes it with a JSON copy under `--output`.
/// Timings are figures to read, never pass/fail.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "qmpfleet-bench",
                                                    abstract: "Benchmark qmpfleet against real QEMU 7.2 and a plain echo server.")

    @Option(help: "Fleet sizes for the density scenario.")
    var vms: [Int] = [100, 1000, 10000]

    @Option(help: "Real QEMU processes started for the density comparison.")
    var qemuCount: Int = 10

    @Option(help: "Seconds per ping-pong measurement.")
    var seconds: Double = 1

    @Option(help: "Ping-pong measurements of each target, taken in turn; the table gives their median.")
    var rounds: Int = 5

    @Option(help: "Clients per VM for the fan-out scenario.")
    var fanOut: [Int] = [1, 100, 1000]

    @Option(help: "Scenarios to run, of: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenarios: [Scenario] = Scenario.allCases

    @Option(help: "stop/cont pairs per fan-out size (p99 needs a few hundred).")
    var fanOutRepeats: Int = 300

    @Option(help: "Directory for results.md and results.json.")
    var output: String = "bench-results"

    @Option(help: "A tmpfs directory for sockets (socket files on ext4 cost more than the fleet).")
    var socketRoot: String = "/dev/shm/qmpfleet-bench"

    @Option(help: "The plugin set of each VM in the density scenario (YAML flow mapping).")
    var plugins: String = Bench.defaultPlugins

    @Option(help: "Plugin commands of the plugin-command scenario, each pipelined and compared with query-status on the same VM.")
    var pluginCommands: [String] = ["query-balloon", "query-block"]

    @Option(help: "Bytes of the string argument of the large-string scenario.")
    var largeStringBytes: Int = 1 << 20

    @Option(help: "VMs made by pipelined vm-create in the vm-create scenario.")
    var vmCreateCount: Int = 10000

    @Option(help: "Loop threads of each fleet started (0: one per CPU, the fleet's default).")
    var loops: Int = 0

    @Option(help: "The qmpfleet binary (default: next to this one).")
    var qmpfleet: String?

    @Option(help: "Seconds to wait for a started fleet's sockets (a fleet under valgrind, on a busy machine, starts far slower than 60 s).")
    var fleetStartSeconds: Double = 60

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let binary = qmpfleet ?? (URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("qmpfleet").path)
        try? FileManager.default.removeItem(atPath: socketRoot)
        try FileManager.default.createDirectory(atPath: socketRoot, withIntermediateDirectories: true)
        var rows: [Row] = []
        let bench = Bench(binary: binary, root: socketRoot, qemuCount: qemuCount, plugins: plugins, loops: loops, rounds: rounds,
                          fleetStartSeconds: fleetStartSeconds)
        let chosen = Set(scenarios)
        if chosen.contains(.density) { for n in vms { rows += try bench.density(vms: n) } }
        if chosen.contains(.roundTrip) { rows += try bench.roundTrip(seconds: seconds) }
        if chosen.contains(.pluginCommand) { rows += try bench.pluginCommands(pluginCommands) }
        if chosen.contains(.largeString) { rows += try bench.largeString(bytes: largeStringBytes) }
        if chosen.contains(.vmCreate) { rows += try bench.vmCreate(count: vmCreateCount) }
        if chosen.contains(.proxy) { rows += try bench.proxyOverhead(seconds: seconds) }
        if chosen.contains(.fanOut) { rows += try bench.fanOut(clients: fanOut, repeats: fanOutRepeats) }
        if chosen.contains(.latency) { rows += try bench.latency() }
        try Report(rows: rows).write(to: output)
    }
}

/// The scenarios of one run, in the order they run.
enum Scenario: String, CaseIterable, ExpressibleByArgument {
    case density
    case roundTrip = "round-trip"
    case pluginCommand = "plugin-command"
    case largeString = "large-string"
    case vmCreate = "vm-create"
    case proxy
    case fanOut = "fan-out"
    case latency
}

/// Runs each scenario on a fresh fleet.
struct Bench {
    let binary: String
    let root: String
    let qemuCount: Int
    let plugins: String
    let loops: Int
    let rounds: Int
    /// How long a started fleet may take to listen (`--fleet-start-seconds`).
    let fleetStartSeconds: TimeInterval

    /// Writes a config and starts qmpfleet; returns the process and its socket dir.
    func startFleet(name: String, vms: Int, plugins: String) throws -> (Process, String) {
        let dir = "\(root)/\(name)"
        let config = "\(root)/\(name).yaml"
        try """
        socket-dir: \(dir)
        loops: \(loops)
        limits: {clients-per-vm: 4096}
        vms: [{name: "vm-{n}", count: \(vms), plugins: \(plugins)}]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = try Processes.launch(binary, ["serve", "--config", config], log: "\(root)/\(name).log")
        try Processes.waitForSocket("\(dir)/vm-\(vms - 1).qmp", timeout: fleetStartSeconds)
        return (process, dir)
    }

    /// config/fleet.yaml's `pc` template (a disk, a CD-ROM, a NIC, every
    /// plugin), with the serial console on a ring buffer instead of a pty:
    /// the kernel's pty limit (4,096 by default) would cap the fleet.
    static let defaultPlugins = "{block: {drives: [{id: drive0, device: disk0, interface: virtio, file: /var/lib/qmpfleet/disk0.qcow2, format: qcow2, size: 20G}, {id: cd0, device: cdrom0, interface: ide, media: cdrom, file: /var/lib/qmpfleet/install.iso}]}, net: {netdevs: [{id: net0, type: user}], nics: [{id: nic0, model: virtio-net-pci, netdev: net0}]}, chardev: {serial: [{id: serial0, backend: ringbuf}]}, memory: {}, cpu-hotplug: {}, tpm: {}, rocker: {}, dump: {}, display: {device: video0, tablet: true}, balloon: {device: balloon0}, trace: {}, migration: {}}"

    /// Clients that check the density scenario's VMs in parallel.
    static let densityClients = 8

    func density(vms: Int) throws -> [Row] {
        Progress.step("density \(vms) VMs: starting the fleet, \(Self.densityClients) clients checking every VM")
        let start = Date()
        let (fleet, dir) = try startFleet(name: "density-\(vms)", vms: vms, plugins: plugins)
        defer { Processes.stop(fleet) }
        // Eight clients at once, each taking every eighth VM: one client
        // connecting in turn would measure its own round trips, not the fleet.
        let failure = Locked<String?>(nil)
        let request = queryStatus
        DispatchQueue.concurrentPerform(iterations: Self.densityClients) { lane in
            for i in stride(from: lane, to: vms, by: Self.densityClients) {
                do {
                    let client = try BlockingClient(path: "\(dir)/vm-\(i).qmp")
                    try client.negotiateAndAsk(request)
                } catch {
                    failure.withLock { $0 = $0 ?? "\(error)" }
                    return
                }
            }
        }
        if let problem = failure.withLock({ $0 }) { throw BenchError("density: \(problem)") }
        let ready = Date().timeIntervalSince(start)
        let rss = Processes.rss(fleet.processIdentifier)
        let fds = Processes.openFDs(fleet.processIdentifier)
        // The peer: real QEMU processes started the same way, time to greeting and RSS.
        var qemuRows: [Row] = []
        for machine in ["none", "q35"] {
            Progress.step("density \(vms) VMs: \(qemuCount) QEMU -machine \(machine) for comparison")
            var times: [Double] = []
            var sizes: [Int] = []
            var processes: [Process] = []
            // Stopped on every way out, a failed connect included.
            defer { for p in processes { Processes.stop(p) } }
            for i in 0..<qemuCount {
                let socket = "\(root)/q-\(machine)-\(i).sock"
                unlink(socket)
                let t = Date()
                let p = try Processes.startQEMU(machine: machine, socket: socket)
                processes.append(p)
                try Processes.waitForSocket(socket)
                let c = try BlockingClient(path: socket)
                try c.negotiateAndAsk(queryStatus)
                times.append(Date().timeIntervalSince(t))
            }
            for p in processes { sizes.append(Processes.rss(p.processIdentifier)) }
            let meanTime = times.reduce(0, +) / Double(times.count)
            let meanRSS = Double(sizes.reduce(0, +)) / Double(sizes.count)
            qemuRows.append(Row(scenario: "density \(vms) VMs", metric: "time per VM until query-status", qmpfleet: ready / Double(vms) * 1000,
                                peer: "QEMU -machine \(machine)", peerValue: meanTime * 1000, unit: "ms"))
            qemuRows.append(Row(scenario: "density \(vms) VMs", metric: "RSS per VM", qmpfleet: Double(rss) / Double(vms) / 1024,
                                peer: "QEMU -machine \(machine)", peerValue: meanRSS / 1024, unit: "KiB"))
        }
        let created = Processes.fleetReadySeconds(log: "\(root)/density-\(vms).log")
        return [
            Row(scenario: "density \(vms) VMs", metric: "all VMs answer query-status (from process start, \(Self.densityClients) checking clients)",
                qmpfleet: ready, peer: "-", peerValue: nil, unit: "s"),
            Row(scenario: "density \(vms) VMs", metric: "every VM created and listening (the fleet's log)",
                qmpfleet: created ?? .nan, peer: "-", peerValue: nil, unit: "s"),
            Row(scenario: "density \(vms) VMs", metric: "total RSS", qmpfleet: Double(rss) / 1_048_576, peer: "-", peerValue: nil, unit: "MiB"),
            Row(scenario: "density \(vms) VMs", metric: "open fds", qmpfleet: Double(fds), peer: "-", peerValue: nil, unit: "fds"),
        ] + qemuRows
    }

    func roundTrip(seconds: Double) throws -> [Row] {
        Progress.step("round trip: ping-pong, \(rounds) rounds of qmpfleet, QEMU and echo, 1 then 16 clients, then pipelined")
        let (fleet, dir) = try startFleet(name: "rt", vms: 16, plugins: "[]")
        defer { Processes.stop(fleet) }
        let qemuSocket = "\(root)/q-rt.sock"
        unlink(qemuSocket)
        let qemu = try Processes.startQEMU(machine: "none", socket: qemuSocket)
        defer { Processes.stop(qemu) }
        var qemus: [Process] = []
        for i in 0..<16 {
            let s = "\(root)/q-rt-\(i).sock"
            unlink(s)
            qemus.append(try Processes.startQEMU(machine: "none", socket: s))
        }
        defer { for q in qemus { Processes.stop(q) } }
        let echo = try EchoServer(path: "\(root)/echo.sock")
        defer { echo.stop() }
        try Processes.waitForSocket(qemuSocket)
        for i in 0..<16 { try Processes.waitForSocket("\(root)/q-rt-\(i).sock") }
        // The fleet's and the echo server's CPU per request next to their
        // rates: the same clients, so what differs is the server's cost and
        // the wake-ups it gives its clients.
        let fleetCPU = { CPUTime.process(fleet.processIdentifier) }
        let echoCPU = { echo.settledCPUNanoseconds() }
        var costs = (fleet1: [PingPongCost](), echo1: [PingPongCost](), fleet16: [PingPongCost](), echo16: [PingPongCost]())
        let one = try interleavedMedians(rounds: rounds, [
            { let c = try pingPongCost(paths: ["\(dir)/vm-0.qmp"], seconds: seconds, serverCPU: fleetCPU); costs.fleet1.append(c); return c.rate },
            { try pingPong(path: qemuSocket, seconds: seconds) },
            { let c = try pingPongCost(paths: [echo.path], seconds: seconds, serverCPU: echoCPU); costs.echo1.append(c); return c.rate },
        ])
        let (ours, theirs, ceiling) = (one[0], one[1], one[2])
        let sixteen = try interleavedMedians(rounds: rounds, [
            { let c = try pingPongCost(paths: (0..<16).map { "\(dir)/vm-\($0).qmp" }, seconds: seconds, serverCPU: fleetCPU); costs.fleet16.append(c); return c.rate },
            { try parallelPingPong(paths: (0..<16).map { "\(root)/q-rt-\($0).sock" }, seconds: seconds) },
            { let c = try pingPongCost(paths: [String](repeating: echo.path, count: 16), seconds: seconds, serverCPU: echoCPU); costs.echo16.append(c); return c.rate },
        ])
        let (ours16, theirs16, echo16) = (sixteen[0], sixteen[1], sixteen[2])
        let cpuRows = [("round trip, 1 client", costs.fleet1, costs.echo1), ("round trip, 16 clients on 16 VMs", costs.fleet16, costs.echo16)].flatMap { scenario, ours, echo in
            [Row(scenario: scenario, metric: "CPU per request, server (every thread)", qmpfleet: median(ours.compactMap(\.serverMicroseconds)),
                 peer: "echo server", peerValue: median(echo.compactMap(\.serverMicroseconds)), unit: "µs"),
             Row(scenario: scenario, metric: "CPU per request, the clients (same code)", qmpfleet: median(ours.map(\.clientMicroseconds)),
                 peer: "echo's clients", peerValue: median(echo.map(\.clientMicroseconds)), unit: "µs")]
        }
        let pipe = try interleavedMedians(rounds: rounds, [
            { try pipelined(path: "\(dir)/vm-0.qmp", batch: 1000, repeats: 3) },
            { try pipelined(path: qemuSocket, batch: 1000, repeats: 3) },
            { try pipelined(path: echo.path, batch: 1000, repeats: 3) },
            { InProcessPeers.parseReplyLoop(request: queryStatus, batch: 1000) },
        ])
        let (oursPipe, theirsPipe, echoPipe, loopPipe) = (pipe[0], pipe[1], pipe[2], pipe[3])
        return [
            Row(scenario: "round trip, 1 client", metric: "query-status ping-pong", qmpfleet: ours, peer: "QEMU 7.2", peerValue: theirs, unit: "req/s"),
            Row(scenario: "round trip, 1 client", metric: "query-status ping-pong", qmpfleet: ours, peer: "echo ceiling", peerValue: ceiling, unit: "req/s"),
            Row(scenario: "round trip, 16 clients on 16 VMs", metric: "query-status ping-pong, total", qmpfleet: ours16, peer: "16 QEMU 7.2", peerValue: theirs16, unit: "req/s"),
            Row(scenario: "round trip, 16 clients on 16 VMs", metric: "query-status ping-pong, total", qmpfleet: ours16, peer: "echo ceiling", peerValue: echo16, unit: "req/s"),
        ] + cpuRows + [
            Row(scenario: "pipelined, 1000 in one write", metric: "query-status", qmpfleet: oursPipe, peer: "QEMU 7.2", peerValue: theirsPipe, unit: "req/s"),
            Row(scenario: "pipelined, 1000 in one write", metric: "query-status", qmpfleet: oursPipe, peer: "echo ceiling", peerValue: echoPipe, unit: "req/s"),
            Row(scenario: "pipelined, 1000 in one write", metric: "query-status", qmpfleet: oursPipe, peer: "parse → reply loop in process (QMPWire, no socket)",
                peerValue: loopPipe, unit: "req/s"),
        ]
    }

    /// Plugin commands against a core command on one VM of the `pc`
    /// template (`--plugins`): 1,000 requests in one write, the best of 3
    /// batches per round, `rounds` rounds taken in turn with `query-status`
    /// (core, no plugin) and the echo ceiling; each figure is the median.
    /// A plugin command's figure is a ratio to `query-status` in the same
    /// rounds: the cost of crossing the plugin boundary and building its
    /// reply, with the session, parsing and sockets the same.
    func pluginCommands(_ commands: [String]) throws -> [Row] {
        Progress.step("plugin command: \(rounds) rounds of pipelined query-status, \(commands.joined(separator: ", ")) and echo on one VM")
        let (fleet, dir) = try startFleet(name: "plugin", vms: 1, plugins: plugins)
        defer { Processes.stop(fleet) }
        let echo = try EchoServer(path: "\(root)/echo-plugin.sock")
        defer { echo.stop() }
        let path = "\(dir)/vm-0.qmp"
        let lines = [queryStatus] + commands.map(request)
        let sizes = try lines.map { try replySize(path: path, request: $0) }
        var targets: [() throws -> Double] = lines.map { line in { try pipelined(path: path, request: line, batch: 1000, repeats: 3) } }
        targets.append { try pipelined(path: echo.path, batch: 1000, repeats: 3) }
        let medians = try interleavedMedians(rounds: rounds, targets)
        let scenario = "pipelined, 1000 in one write, one pc VM"
        var rows = [Row(scenario: scenario, metric: "query-status (core, \(sizes[0])-byte reply)", qmpfleet: medians[0],
                        peer: "echo ceiling", peerValue: medians.last, unit: "req/s")]
        for (index, command) in commands.enumerated() {
            rows.append(Row(scenario: scenario, metric: "\(command) (plugin, \(sizes[index + 1])-byte reply)", qmpfleet: medians[index + 1],
                            peer: "query-status, same VM", peerValue: medians[0], unit: "req/s"))
        }
        return rows
    }

    /// Proxy mode: one client through the fleet to a real QEMU, against the same QEMU directly.
    func proxyOverhead(seconds: Double) throws -> [Row] {
        Progress.step("proxy: QEMU directly, then through the fleet")
        let qemuSocket = "\(root)/q-proxy.sock"
        unlink(qemuSocket)
        let qemu = try Processes.startQEMU(machine: "none", socket: qemuSocket)
        defer { Processes.stop(qemu) }
        try Processes.waitForSocket(qemuSocket)
        // QEMU serves one client per monitor: measure it directly first,
        // then let the fleet take the monitor.
        let direct = try pingPong(path: qemuSocket, seconds: seconds)
        let dir = "\(root)/proxy"
        let config = "\(root)/proxy.yaml"
        try "socket-dir: \(dir)\nvms: [{name: real, backend: proxy, upstream: \(qemuSocket)}]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let fleet = try Processes.launch(binary, ["serve", "--config", config])
        defer { Processes.stop(fleet) }
        try Processes.waitForSocket("\(dir)/real.qmp")
        let through = try pingPong(path: "\(dir)/real.qmp", seconds: seconds)
        return [Row(scenario: "proxy mode, 1 client", metric: "query-status ping-pong through the fleet", qmpfleet: through,
                    peer: "QEMU 7.2 directly", peerValue: direct, unit: "req/s")]
    }

    func fanOut(clients: [Int], repeats: Int) throws -> [Row] {
        let (fleet, dir) = try startFleet(name: "fanout", vms: 1, plugins: "[]")
        defer { Processes.stop(fleet) }
        var rows: [Row] = []
        for n in clients {
            Progress.step("fan-out: \(n) clients, \(repeats) stop/cont pairs")
            let times = try fanOutTimes(path: "\(dir)/vm-0.qmp", clients: n, repeats: repeats)
            for (metric, h) in [("one event (STOP) reaches every client", times.firstEvent),
                                ("stop/cont: every client has both events", times.bothEvents)] {
                for (label, value) in [("p50", h.median), ("p99", h.valueAtPercentile(99)), ("max", h.max)] {
                    rows.append(Row(scenario: "fan-out, \(n) clients", metric: "\(metric), \(label)", qmpfleet: Double(value) / 1000,
                                    peer: "-", peerValue: nil, unit: "ms"))
                }
            }
        }
        return rows
    }

    func latency() throws -> [Row] {
        Progress.step("latency: 5000 round trips while 1000 clients receive events")
        let (fleet, dir) = try startFleet(name: "latency", vms: 1, plugins: "[]")
        defer { Processes.stop(fleet) }
        let h = try latencyUnderEvents(path: "\(dir)/vm-0.qmp", listeners: 1000, samples: 5000)
        return [50.0, 99.0, 99.9].map { p in
            Row(scenario: "latency, 1000 clients receiving events", metric: "query-status round trip p\(p == 99.9 ? "99.9" : String(Int(p)))",
                qmpfleet: Double(h.valueAtPercentile(p)) / 1000, peer: "-", peerValue: nil, unit: "ms")
        }
    }
}
