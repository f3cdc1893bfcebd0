import FleetCore
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// What a QEMU command line asks for, in the fleet's terms: the VM entry
/// (machine, memory, CPUs, run state, plugins), its QMP monitors, the QMP
/// commands that recreate its `-object`, `-chardev`, `-blockdev`, `-netdev`
/// and `-device` options, and the process's own duties (pidfile, daemon).
struct EmulatorPlan {
    /// A `vms:` entry (see `VMSpec.single`).
    var entry: JSONObject = [:]
    var monitors: [MonitorSpec] = []
    /// In QEMU's creation order: objects, chardevs, block nodes, netdevs, devices.
    var commands: [(name: String, arguments: JSONObject, option: String)] = []
    var pidfile: String?
    var daemonize = false
    var printVersion = false
    var printHelp = false
    /// Options accepted without effect, for the log.
    var ignored: [String] = []
    /// `-vnc`: the display plugin's `vnc:` section.
    var vnc: JSONObject?
    /// The `-cpu` model (its feature switches are not simulated).
    var cpuModel: String?

    /// The plugins every emulated VM of an architecture gets: what QEMU's
    /// binary would offer (libvirt probes for them).
    static func plugins(arch: String) -> JSONObject {
        var plugins: JSONObject = [
            "block": [:], "net": [:], "chardev": ["serial": []], "memory": [:], "cpu-hotplug": [:], "tpm": [:],
            "rocker": [:], "dump": [:], "display": [:], "trace": [:], "migration": [:], "balloon": [:],
        ]
        if arch == "aarch64" { plugins["gic"] = [:] }
        return plugins
    }

    init(arguments: [String], arch: String) throws(EmulatorError) {
        entry["name"] = "qemu"
        entry["arch"] = .string(arch)
        entry["start-paused"] = false
        entry["no-shutdown"] = false
        // QEMU's default RAM without -m (the fleet's templates default higher).
        entry["memory"] = ["size": "128M"]
        var drives: [JSONValue] = []
        var chardevs: [String: QemuOpts] = [:]
        var objects: [(JSONObject, String)] = [], charCommands: [(JSONObject, String)] = []
        var blockdevs: [(JSONObject, String)] = [], netdevs: [(JSONObject, String)] = [], devices: [(JSONObject, String)] = []
        var incoming: [(JSONObject, String)] = []
        for option in try QEMUOption.parse(arguments) {
            let value = option.value ?? ""
            let text = "-\(option.name)" + (option.value.map { " \($0)" } ?? "")
            switch option.name {
            case "version": printVersion = true
            case "help", "h": printHelp = true
            case "S": entry["start-paused"] = true
            case "incoming":
                // The VM waits in inmigrate; a URI other than `defer` is
                // listened on at start, as QEMU does with -incoming URI.
                entry["incoming"] = "defer"
                if value != "defer" { incoming.append((["uri": .string(value)], text)) }
            case "no-shutdown": entry["no-shutdown"] = true
            case "no-reboot": entry["no-reboot"] = true
            case "daemonize": daemonize = true
            case "pidfile": pidfile = value
            case "name":
                let opts = try QemuOpts(value, impliedKey: "guest")
                if let guest = opts["guest"] {
                    entry["name"] = .string(guest)
                    entry["guest-name"] = .string(guest)
                }
            case "uuid": entry["uuid"] = .string(value)
            case "machine", "M":
                let opts = try QemuOpts(value, impliedKey: "type")
                if let type = opts["type"] { entry["machine"] = .string(type) }
                if let accel = opts["accel"] { entry["kvm"] = .bool(Self.usesKVM(accelerators: accel)) }
            case "accel":
                entry["kvm"] = .bool(Self.usesKVM(accelerators: try QemuOpts(value, impliedKey: "accel")["accel"] ?? ""))
            case "enable-kvm": entry["kvm"] = true
            case "vnc":
                // The display plugin's VNC server: password state for
                // set_password/expire_password (it listens nowhere).
                let opts = try QemuOpts(value, impliedKey: "vnc")
                vnc = ["password": .bool(opts.bool("password") ?? false)]
            case "cpu":
                // `-cpu Haswell,+avx2,vmx=off`: the model names the vCPUs'
                // QOM type; the feature switches are logged, not simulated.
                let parts = value.split(separator: ",", maxSplits: 1)
                cpuModel = parts.first.map(String.init)
                if let cpuModel { entry["cpu"] = .string(cpuModel) }
                if parts.count > 1 { ignored.append("-cpu features \(parts[1])") }
            case "m":
                let opts = try QemuOpts(value, impliedKey: "size")
                var memory: JSONObject = [:]
                if let size = opts["size"] { memory["size"] = .string(Self.megabytesByDefault(size)) }
                if let slots = opts["slots"], let n = Int64(slots) { memory["slots"] = .int(n) }
                if let max = opts["maxmem"] { memory["maxmem"] = .string(Self.megabytesByDefault(max)) }
                entry["memory"] = .object(memory)
            case "smp":
                let opts = try QemuOpts(value, impliedKey: "cpus")
                var smp: JSONObject = [:]
                for key in ["cpus", "sockets", "cores", "threads", "maxcpus"] {
                    guard let v = opts[key] else { continue }
                    guard let n = Int64(v) else { throw EmulatorError("Parameter 'smp.\(key)' expects integer") }
                    smp[key] = .int(n)
                }
                Self.completeTopology(&smp)
                entry["smp"] = .object(smp)
            case "qmp", "qmp-pretty":
                monitors.append(try Self.qmpMonitor(value))
            case "chardev":
                let opts = try QemuOpts(value, impliedKey: "backend")
                guard let id = opts["id"] else { throw EmulatorError("-chardev \(value): Parameter 'id' is missing") }
                chardevs[id] = opts
            case "mon":
                let opts = try QemuOpts(value, impliedKey: "chardev")
                guard opts["mode"] == "control" else { ignored.append(text); continue }
                guard let id = opts["chardev"], let chardev = chardevs.removeValue(forKey: id) else {
                    throw EmulatorError("-mon \(value): chardev not found")
                }
                monitors.append(try Self.chardevMonitor(chardev, option: value))
            case "object":
                objects.append((try QemuOpts(value, impliedKey: "qom-type").arguments, text))
            case "blockdev":
                blockdevs.append((try QemuOpts(value, impliedKey: nil).arguments, text))
            case "drive":
                drives.append(.object(try Self.drive(QemuOpts(value, impliedKey: nil))))
            case "netdev":
                netdevs.append((try QemuOpts(value, impliedKey: "type").arguments, text))
            case "device":
                devices.append((try QemuOpts(value, impliedKey: "driver").arguments, text))
            default:
                ignored.append(text)
            }
        }
        // Board UARTs cannot be hot-plugged, so `-device isa-serial` with its
        // chardev becomes the chardev plugin's `serial:` entry (made with the VM).
        var serials: [JSONValue] = []
        devices.removeAll { device, _ in
            guard device["driver"]?.stringValue == "isa-serial", let chardev = device["chardev"]?.stringValue,
                  let opts = chardevs.removeValue(forKey: chardev) else { return false }
            var serial: JSONObject = ["id": .string(chardev), "backend": .string(opts["backend"] ?? "null")]
            if let path = opts["path"] { serial["path"] = .string(path) }
            if let size = opts["size"], let n = Int64(size) { serial["size"] = .int(n) }
            serials.append(.object(serial))
            return true
        }
        // Chardevs no -mon claimed become chardev-add, before the devices using them.
        for (id, opts) in chardevs.sorted(by: { $0.key < $1.key }) {
            charCommands.append((try ChardevBackend.arguments(id: id, opts), "-chardev \(id)"))
        }
        var plugins = Self.plugins(arch: arch)
        if let vnc { plugins["display"] = ["vnc": .object(vnc)] }
        if !drives.isEmpty { plugins["block"] = ["drives": .array(drives)] }
        if !serials.isEmpty { plugins["chardev"] = ["serial": .array(serials)] }
        entry["plugins"] = .object(plugins)
        for (list, command) in [(objects, "object-add"), (charCommands, "chardev-add"), (blockdevs, "blockdev-add"),
                                (netdevs, "netdev_add"), (devices, "device_add"), (incoming, "migrate-incoming")] {
            commands += list.map { (command, $0.0, $0.1) }
        }
    }

    /// QEMU 7.2's `smp_parse` for a topology given only in part with
    /// `maxcpus` (`-smp 1,maxcpus=4`): one socket and thread unless given,
    /// and the cores make up the rest (cores are preferred since 6.2).
    static func completeTopology(_ smp: inout JSONObject) {
        guard let maxCPUs = smp["maxcpus"]?.int64Value, maxCPUs > 0,
              smp["sockets"] == nil || smp["cores"] == nil || smp["threads"] == nil else { return }
        let sockets = smp["sockets"]?.int64Value ?? 1, threads = smp["threads"]?.int64Value ?? 1
        smp["sockets"] = .int(sockets)
        smp["threads"] = .int(threads)
        // Command-line integers: `sockets=4294967296,threads=4294967296`
        // overflows the product; the VM's check then refuses the topology.
        let (perCore, overflow) = sockets.multipliedReportingOverflow(by: threads)
        if smp["cores"] == nil { smp["cores"] = .int(overflow || perCore <= 0 ? 1 : max(1, maxCPUs / perCore)) }
    }

    /// QEMU takes the first accelerator of `kvm:tcg` that works; KVM works
    /// where /dev/kvm can be opened (libvirt checks the same before it
    /// trusts a probe that said KVM was off).
    static func usesKVM(accelerators: String) -> Bool {
        guard accelerators.split(separator: ":").first == "kvm" else { return false }
        return access("/dev/kvm", R_OK | W_OK) == 0
    }

    /// `-m 64` is 64 MiB: QEMU's default suffix for memory sizes is M.
    static func megabytesByDefault(_ size: String) -> String {
        size.allSatisfy(\.isNumber) ? size + "M" : size
    }

    /// `-qmp unix:PATH,server=on,wait=off` (or the old `server,nowait`).
    static func qmpMonitor(_ value: String) throws(EmulatorError) -> MonitorSpec {
        guard value.hasPrefix("unix:") else {
            throw EmulatorError("-qmp \(value): only unix: sockets are simulated")
        }
        let opts = try QemuOpts(String(value.dropFirst(5)), impliedKey: "path")
        guard let path = opts["path"], opts.bool("server") == true else {
            throw EmulatorError("-qmp \(value): a monitor must be a listening server socket")
        }
        return .path(path)
    }

    /// `-chardev socket,id=charmonitor,fd=N,server=on,wait=off` with `-mon`,
    /// as libvirt starts domains (the fd listens already), or with `path=`.
    static func chardevMonitor(_ opts: QemuOpts, option: String) throws(EmulatorError) -> MonitorSpec {
        guard opts["backend"] == "socket", opts.bool("server") == true else {
            throw EmulatorError("-mon \(option): the monitor chardev must be a listening socket")
        }
        if let fd = opts["fd"], let n = Int32(fd) { return .listeningFD(n) }
        if let path = opts["path"] { return .path(path) }
        throw EmulatorError("-mon \(option): the monitor socket needs fd= or path=")
    }

    /// A `-drive` as the block plugin's `drives:` entry.
    static func drive(_ opts: QemuOpts) throws(EmulatorError) -> JSONObject {
        var drive: JSONObject = [:]
        for (key, name) in [("id", "id"), ("file", "file"), ("format", "format"), ("media", "media"), ("if", "interface")] {
            if let v = opts[key] { drive[name] = .string(v) }
        }
        if opts.bool("readonly") == true { drive["readonly"] = true }
        return drive
    }
}
