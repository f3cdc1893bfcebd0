import FleetCore
import FleetLogging
import Logging
import QEMUReference
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// `qmpfleet-emulator`: a simulated VM that management software starts as
/// if it were `qemu-system-x86_64`. It takes QEMU's command line, serves
/// QMP on the monitors it names, and lives as long as the VM: it exits
/// when the VM quits or powers off (without `-no-shutdown`) or on SIGTERM.
///
/// Environment: `QMPFLEET_CONTROL` (a running fleet's `fleet.qmp`: the VM
/// is handed to that fleet, see `FleetHandOff`; without it the VM runs in
/// this process), `QMPFLEET_PLUGIN_DIR` (plugins; default: next to this
/// binary), `QMPFLEET_ARCH` (default x86_64), `QMPFLEET_LOG_LEVEL`
/// (default warning).
@main
struct QMPFleetEmulator {
    /// What QEMU prints before an error, so logs read the same.
    static let program = "qemu-system-x86_64"

    static func main() {
        let environment = ProcessInfoLite()
        let arch = environment["QMPFLEET_ARCH"] ?? "x86_64"
        let plan: EmulatorPlan
        do {
            plan = try EmulatorPlan(arguments: Array(CommandLine.arguments.dropFirst()), arch: arch)
        } catch {
            fail("\(error)")
        }
        if plan.printVersion {
            print("\(versionLine)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers")
            exit(0)
        }
        if plan.printHelp {
            // QEMU's shape: version line, usage line, option groups.
            print("\(versionLine)\nusage: \(program) [options] [disk_image]\n\n'disk_image' is a raw hard disk image for IDE hard disk 0\n\nqmpfleet-emulator accepts QEMU 7.2's options as libvirt writes them; see the qmpfleet README (libvirt).")
            exit(0)
        }
        var daemon = plan.daemonize ? Daemon.detach() : Daemon()
        do {
            try run(plan, environment: environment, daemon: &daemon)
        } catch {
            daemon.failed("\(program): \(error)\n")
            fail("\(error)")
        }
    }

    static func run(_ plan: EmulatorPlan, environment: ProcessInfoLite, daemon: inout Daemon) throws {
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: environment["QMPFLEET_LOG_LEVEL"] ?? "warning") ?? .warning
        let logger = StandardErrorLogging.bootstrap(level: level, label: "qmpfleet-emulator")
        for option in plan.ignored { logger.info("accepted without effect: \(option)") }
        guard !plan.monitors.isEmpty else {
            throw EmulatorError("no QMP monitor: use -qmp unix:PATH,server=on,wait=off or -chardev socket + -mon mode=control")
        }
        if let pidfile = plan.pidfile { try writePidfile(pidfile) }

        if let control = environment["QMPFLEET_CONTROL"], !control.isEmpty {
            return try handOff(plan, control: control, daemon: &daemon)
        }
        var config = FleetConfig()
        if let dir = environment["QMPFLEET_PLUGIN_DIR"] { config.pluginDirectories = [dir] }
        // Trusted as QEMU trusts its command line (a handed-over VM keeps
        // the fleet's own policy: the control socket is no command line).
        CommandLineFiles(plan).apply(to: &config)
        // It stands in for the recorded QEMU binary: same version and package.
        if let version = ReferenceQEMUVersion.recorded { config.qemuVersion = version }
        let loop = try EventLoop()
        let router = try Router(config: config, logger: logger, scheduler: LoopScheduler(loop: loop), loop: loop)
        var spec = try VMSpec.single(entry: plan.entry, source: "command line", config: config)
        spec.monitors = plan.monitors
        spec.vcpuThreadIDs = VCPUThreads.spawn(spec.machine.smp.maxCPUs)
        // Not a fleet VM: it needs no place in a socket directory.
        guard let vm = try router.createVM(spec) else { throw EmulatorError("no VM created") }
        try replay(plan.commands, on: vm, loop: loop, logger: logger)
        reportPTYs(of: vm, loop: loop)

        router.onVMEnded = { _ in
            // Let the last replies and SHUTDOWN reach the clients, then exit.
            _ = router.scheduler.schedule(afterMilliseconds: 50) { loop.stop() }
        }
        var watchers: [SignalWatcher] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            watchers.append(try SignalWatcher(loop: loop, signal: sig) {
                printError("\(program): terminating on signal \(sig)")
                router.shutdown()
            })
        }
        daemon.ready()
        loop.run()
        if let pidfile = plan.pidfile { unlink(pidfile) }
        exit(0)
    }

    /// Runs each command line option's QMP equivalent, in order, while the
    /// VM has no client yet (`CommandLineReplay`); a refusal ends start-up
    /// with QEMU's error text, as QEMU does.
    static func replay(_ commands: [(name: String, arguments: JSONObject, option: String)], on vm: VM, loop: EventLoop, logger: Logger) throws {
        let replay = CommandLineReplay(steps: commands.map { .init(command: $0.name, arguments: $0.arguments, option: $0.option) })
        var outcome: String??
        replay.run(on: vm, skipped: { logger.warning("\($0)") }) { outcome = .some($0) }
        while outcome == nil { loop.runOnce() }
        if case .some(.some(let failure)) = outcome { throw EmulatorError(failure) }
    }

    /// Mode (a): the VM lives in the running fleet; this process waits for
    /// it to end (or dies, and the fleet destroys it).
    static func handOff(_ plan: EmulatorPlan, control: String, daemon: inout Daemon) throws {
        let spec = try VMSpec.single(entry: plan.entry, source: "command line", config: FleetConfig())
        var fleet = try FleetHandOff(controlPath: control)
        let chardevs = try fleet.attach(plan, vcpuThreadIDs: VCPUThreads.spawn(spec.machine.smp.maxCPUs))
        for chardev in chardevs { reportPTY(chardev) }
        // SIGTERM interrupts the wait (no SA_RESTART); the fleet sees the
        // connection close and destroys the VM.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        for sig in [SIGTERM, SIGINT, SIGHUP] { sigaction(sig, &action, nil) }
        daemon.ready()
        fleet.waitForEnd()
        fleet.removeBoundSockets()
        if let pidfile = plan.pidfile { unlink(pidfile) }
        exit(0)
    }

    static func reportPTY(_ chardev: JSONValue) {
        guard let file = chardev["filename"]?.stringValue, file.hasPrefix("pty:"), let label = chardev["label"]?.stringValue else { return }
        printError("char device redirected to \(file.dropFirst(4)) (label \(label))")
    }

    /// QEMU's start-up line for each pty chardev, which scripts read.
    static func reportPTYs(of vm: VM, loop: EventLoop) {
        var result: CommandResult?
        vm.execute("query-chardev", nil) { result = $0 }
        while result == nil { loop.runOnce() }
        guard case .success(.array(let chardevs))? = result else { return }
        for chardev in chardevs { reportPTY(chardev) }
    }

    /// QEMU's first `-version` line, for the version this binary stands in
    /// for: "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)".
    static var versionLine: String {
        let v = ReferenceQEMUVersion.recorded ?? .default72
        let package = v.package.isEmpty ? "" : "\(v.package); "
        return "QEMU emulator version \(v.major).\(v.minor).\(v.micro) (\(package)qmpfleet simulated VM)"
    }

    static func writePidfile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EmulatorError("cannot create PID file: \(String(cString: strerror(errno)))") }
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func fail(_ text: String) -> Never {
        printError("\(program): \(text)")
        exit(1)
    }

    static func printError(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// The environment, read without Foundation.
struct ProcessInfoLite {
    subscript(name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
