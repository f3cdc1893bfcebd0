// libFuzzer target for the dispatch of parsed requests against a VM: the
// input is what a negotiated client sends to one in-process VM with device
// plugins of the default `pc` template (QMPFleetTesting's TestFleet under a
// virtual clock). Any crash, trap, sanitizer report or leak is a
// finding; everything the VM writes must parse as QMP output, and the client
// gets exactly one greeting.
//
// Each input gets a new VM, destroyed at its end through Router.destroyVM
// (plugins' vm_destroy included), so an input's effect and any leak are its
// own: a finding replays from its input alone, and LeakSanitizer's check
// after each input is honest. The router, its command table and the loaded
// plugins are made once, in LLVMFuzzerInitialize, before libFuzzer counts
// the coverage of the plugin libraries.
//
// A stall is a finding too: one loop serves many VMs, so an input whose
// dispatch, whose any one timer callback, or whose VM's end holds the
// thread longer than the budget (100 ms, as issue 16 sets it; env
// DISPATCH_FUZZ_STALL_MS to change) stops with its input saved, as a crash
// does. Creating the VM is the harness's cost and is not counted.
// Built by Fuzz/run against an instrumented build of QMPFleetTesting; the
// instrumented plugins are linked next to the binary, where the fleet looks.
import FleetCore
import PluginHost
import QMPFleetTesting
import QMPServer
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// The `pc` template's plugins and devices (config/fleet.yaml), in template
/// order. The VM gets each plugin whose library is linked next to the binary:
/// Fuzz/run links block, net and chardev for `--ci`, every one for longer runs.
let pcTemplatePlugins: [(name: String, config: String)] = [
    ("block", """
        {drives: [{id: drive0, device: disk0, interface: virtio, file: /var/lib/qmpfleet/disk0.qcow2, format: qcow2, size: 20G, allocated: 2G}, \
        {id: cd0, device: cdrom0, interface: ide, media: cdrom, file: /var/lib/qmpfleet/install.iso}]}
        """),
    ("net", "{netdevs: [{id: net0, type: user}], nics: [{id: nic0, model: virtio-net-pci, netdev: net0}]}"),
    // A ring buffer, not the template's pty: a pty nobody reads is polled
    // every few virtual milliseconds, and each input runs a virtual minute.
    ("chardev", "{serial: [{id: serial0, backend: ringbuf}]}"),
    ("memory", "{}"), ("cpu-hotplug", "{}"), ("tpm", "{}"), ("rocker", "{}"), ("dump", "{}"),
    ("display", "{device: video0, tablet: true}"), ("balloon", "{device: balloon0}"),
    ("trace", "{}"), ("migration", "{}"),
]

/// The fleet's config: vm0 with the plugins found in `pluginDirectory`.
/// Files that commands create (chardev logs, dumps, screendumps) may only go
/// under `fileDirectory`.
func dispatchFleetYAML(pluginDirectory: String, fileDirectory: String) -> (yaml: String, plugins: [String]) {
    let found = pcTemplatePlugins.filter { access("\(pluginDirectory)/\(PluginLoader.fileName(for: $0.name))", F_OK) == 0 }
    let yaml = """
        allowed-file-dirs: [\(fileDirectory)]
        vms:
          - name: vm0
            machine: pc-i440fx-7.2
            memory: {size: 1G, slots: 4, maxmem: 4G}
            smp: {cpus: 1, sockets: 1, cores: 4, threads: 1, maxcpus: 4}
            no-shutdown: true
            powerdown-delay-ms: 500
            plugins: {\(found.map { "\($0.name): \($0.config)" }.joined(separator: ", "))}
        """
    return (yaml, found.map(\.name))
}

/// The longest one input may hold the loop (see the header).
let stallBudget: Duration = .milliseconds(Int(getenv("DISPATCH_FUZZ_STALL_MS").flatMap { Int(String(cString: $0)) } ?? 100))

/// What one loop turn cost the thread. Wall time alone would blame an
/// input for the machine's load (other processes take the CPU away), so a
/// turn stalls when its own CPU time passes the budget, or when its wall
/// time does and the thread went to sleep in it (a voluntary context
/// switch: a blocking read, open or wait).
struct LoopTurn {
    var cpu: Duration
    var wall: Duration
    var slept: Bool

    static func measure(_ body: () -> Void) -> LoopTurn {
        func cpuNow() -> Duration {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return .seconds(t.tv_sec) + .nanoseconds(t.tv_nsec)
        }
        func voluntarySwitches() -> Int {
            var usage = rusage()
            getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (a GNU name Swift does not import)
            return usage.ru_nvcsw
        }
        let (cpu0, switches0, wall0) = (cpuNow(), voluntarySwitches(), ContinuousClock.now)
        body()
        return LoopTurn(cpu: cpuNow() - cpu0, wall: ContinuousClock.now - wall0, slept: voluntarySwitches() > switches0)
    }

    var stalled: Bool { cpu > stallBudget || (wall > stallBudget && slept) }
}

/// The first turn of the current input that went past the budget.
nonisolated(unsafe) var firstStall: (what: String, turn: LoopTurn)?

func noteStall(_ what: String, _ turn: LoopTurn) {
    if turn.stalled && firstStall == nil { firstStall = (what, turn) }
}

/// The fleet, made once; its VM list is empty between inputs.
nonisolated(unsafe) var dispatchFleet: TestFleet!
/// The VM every input gets a fresh copy of.
nonisolated(unsafe) var dispatchSpec: VMSpec!

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let directory = PluginLoader.executableDirectory
    let files = directory + "/files"
    mkdir(files, 0o700)
    let config = dispatchFleetYAML(pluginDirectory: directory, fileDirectory: files)
    fputs("DispatchFuzz: vm0's plugins: \(config.plugins.joined(separator: " "))\n", stderr)
    do {
        // The fleet starts vm0 once: that checks the plugins load and the
        // VM starts; each input then gets its own copy.
        let fleet = try TestFleet(yaml: config.yaml)
        guard let vm = fleet.vm("vm0") else { fatalError("vm0 did not start") }
        dispatchSpec = vm.spec
        fleet.router.destroyVM(vm)
        fleet.clock.runAction = { action in noteStall("a timer callback", LoopTurn.measure(action)) }
        dispatchFleet = fleet
        // libFuzzer ends with exit(); LeakSanitizer's check runs from an
        // earlier atexit, so after this one: the fleet is gone by then.
        atexit {
            dispatchFleet?.shutdown()
            dispatchFleet = nil
        }
    } catch {
        fatalError("the fuzz fleet did not start: \(error)")
    }
    return 0
}

/// A stall must happen again on a fresh VM to count: the first use of a
/// process-wide table (the 4,246 trace events, the QMP schema) pays its
/// one-time set-up once, and the rerun shows whether the input itself holds
/// the loop. A stall that repeats stops the run as a finding; libFuzzer
/// saves the input (a deadly signal).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDispatch(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    firstStall = nil
    runInput(input)
    guard firstStall != nil else { return 0 }
    firstStall = nil
    runInput(input)
    if let (what, turn) = firstStall {
        fputs("DispatchFuzz: stall: \(what) held the loop: \(turn.cpu) of CPU, \(turn.wall) in all"
              + "\(turn.slept ? ", sleeping in it" : "") (budget \(stallBudget))\n", stderr)
        abort()
    }
    return 0
}

func runInput(_ input: UnsafeRawBufferPointer) {
    let fleet: TestFleet = dispatchFleet
    let vm: VM
    do {
        guard let created = try fleet.router.createVM(dispatchSpec) else { fatalError("vm0 is not simulated") }
        vm = created
    } catch {
        fatalError("vm0 did not start: \(error)")
    }
    let wire = FuzzTransport()
    guard let session = vm.attach(transport: wire) else { fatalError("attach refused") }
    Array(#"{"execute": "qmp_capabilities"}"#.utf8).withUnsafeBytes { session.receive($0) }
    // One read of up to 4 KiB is one loop turn: parsing and every command in it.
    noteStall("the input's dispatch", LoopTurn.measure { session.receive(input) })
    // Timers (powerdown delays, throttled events, plugin timeouts, block
    // jobs) fire too, each its own turn.
    fleet.advance(by: 60_000)
    // Everything the VM wrote must be QMP output lines.
    var parser = JSONStreamParser()
    var greetings = 0
    wire.output.withUnsafeBytes { parser.feed($0) { result in
        guard case .success(let line) = result else { fatalError("unparsable output: \(result)") }
        if line["QMP"] != nil { greetings += 1 }
    } }
    if greetings != 1 { fatalError("\(greetings) greetings") }
    noteStall("the VM's end", LoopTurn.measure {
        session.transportDidClose()
        // `quit` may have ended it already.
        fleet.router.destroyVM(vm)
    })
    fleet.advance(by: 60_000)
}

/// A client socket that reads everything at once.
final class FuzzTransport: SessionTransport {
    var output: [UInt8] = []
    func send(_ bytes: [UInt8]) { output += bytes }
    var pendingOutputBytes: Int { 0 }
    func pauseInput() {}
    func resumeInput() {}
    func close() {}
    func closeAfterFlush() {}
}
