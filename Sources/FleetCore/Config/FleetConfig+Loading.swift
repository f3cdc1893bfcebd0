import QMPWire
#if canImport(Glibc)
import Glibc
#endif

extension FleetConfig {
    /// Checks a config document (the YAML file as FleetConfigFile reads it,
    /// or any JSON value of the same shape) and builds the config from it.
    /// `file` names the source in error texts.
    package static func parse(document: JSONValue, file: String) throws(FleetError) -> FleetConfig {
        try parse(ConfigReader(file: file, value: document))
    }

    static let topLevelKeys: Set<String> = [
        "socket-dir", "socket-mode", "qemu-version", "plugin-dirs", "allowed-file-dirs", "limits", "loops", "templates", "vms",
        "faults",
    ]

    static func parse(_ reader: ConfigReader) throws(FleetError) -> FleetConfig {
        try reader.checkKeys(topLevelKeys)
        var config = FleetConfig()
        config.source = reader.file
        if let dir = try reader.string("socket-dir") { config.socketDirectory = dir }
        if let mode = try reader.string("socket-mode") {
            guard let bits = mode_t(mode, radix: 8), bits & ~0o777 == 0 else {
                throw reader.error("expected an octal mode such as \"0600\"", key: "socket-mode")
            }
            config.socketMode = bits
        }
        if let v = try reader.child("qemu-version") {
            try v.checkKeys(["major", "minor", "micro", "package"])
            config.qemuVersion = QEMUVersion(
                major: try v.int("major") ?? 7, minor: try v.int("minor") ?? 2,
                micro: try v.int("micro") ?? 0, package: try v.string("package") ?? "")
        }
        if let dirs = try reader.stringArray("plugin-dirs") { config.pluginDirectories = dirs }
        if let dirs = try reader.stringArray("allowed-file-dirs") { config.allowedFileDirectories = dirs }
        if let limits = try reader.child("limits") { config.limits = try Limits.parse(limits) }
        if let loops = try reader.int("loops") {
            guard (0...FleetShards.maxLoops).contains(loops) else {
                throw reader.error("expected 0 (one per CPU) to \(FleetShards.maxLoops)", key: "loops")
            }
            config.loops = loops
        }
        if let templates = try reader.child("templates") {
            for (name, _) in try templates.object() {
                guard let t = try templates.child(name) else { continue }
                var spec = try VMSpec.parse(t, base: VMSpec(name: name), config: config)
                spec.template = name
                config.templates[name] = spec
            }
        }
        if let vms = try reader.child("vms") {
            guard case .array(let entries) = vms.value else { throw vms.error("expected a list of VMs") }
            var seen = Set<String>()
            for (i, entry) in entries.enumerated() {
                let r = vms.element(i, entry)
                for var spec in try VMSpec.expand(r, config: config) {
                    spec.isFromConfigFile = true
                    guard seen.insert(spec.name).inserted else {
                        throw r.error("duplicate VM name '\(spec.name)'", key: "name")
                    }
                    config.vms.append(spec)
                }
            }
        }
        if let faults = try reader.child("faults") { config.faults = try FaultSpec.parseList(faults, limit: config.limits.faultsPerFleet) }
        guard config.vms.count <= config.limits.vmsPerFleet else {
            throw reader.error("\(config.vms.count) VMs exceed limits.vms-per-fleet (\(config.limits.vmsPerFleet))", key: "vms")
        }
        return config
    }
}

extension Limits {
    static func parse(_ r: ConfigReader) throws(FleetError) -> Limits {
        try r.checkKeys([
            "max-nesting", "max-token-bytes", "max-token-count", "session-output-bytes", "pending-commands-per-session",
            "clients-per-vm", "clients-written-by-vm-loop", "proxy-queued-commands", "control-clients", "control-requests-in-flight", "vms-per-fleet", "fds-per-session", "fds-per-vm", "objects-per-vm", "devices-per-vm", "plugin-reply-timeout-ms",
            "vm-name-bytes", "faults-per-fleet",
            "command-history-per-vm", "http-clients", "http-header-bytes", "http-request-timeout-ms", "http-output-bytes",
            "page-vms", "page-text-bytes",
            "session-output-stall-ms", "final-flush-ms", "negotiation-timeout-ms", "parser-bytes-per-fleet",
            "session-turn-us", "fd-stall-ms", "pool-jobs-per-vm",
        ])
        var l = Limits()
        func positive(_ key: String) throws(FleetError) -> Int? {
            guard let v = try r.int(key) else { return nil }
            guard v > 0 else { throw r.error("expected a positive integer", key: key) }
            return v
        }
        if let v = try positive("max-nesting") { l.json.maxNesting = v }
        if let v = try positive("max-token-bytes") { l.json.maxTokenBytes = v }
        if let v = try positive("max-token-count") { l.json.maxTokenCount = v }
        if let v = try positive("session-output-bytes") { l.sessionOutputBytes = v }
        if let v = try positive("pending-commands-per-session") { l.pendingCommandsPerSession = v }
        if let v = try positive("clients-per-vm") { l.clientsPerVM = v }
        if let v = try r.int("clients-written-by-vm-loop") {
            guard v >= 0 else { throw r.error("expected an integer of 0 or more", key: "clients-written-by-vm-loop") }
            l.clientsWrittenByVMLoop = v
        }
        if let v = try positive("proxy-queued-commands") { l.proxyQueuedCommands = v }
        if let v = try positive("control-clients") { l.controlClients = v }
        if let v = try r.int("control-requests-in-flight") {
            guard (1...Limits.maxControlRequestsInFlight).contains(v) else {
                throw r.error("expected an integer from 1 to \(Limits.maxControlRequestsInFlight)", key: "control-requests-in-flight")
            }
            l.controlRequestsInFlight = v
        }
        if let v = try positive("vms-per-fleet") { l.vmsPerFleet = v }
        if let v = try positive("fds-per-session") { l.fdsPerSession = v }
        if let v = try positive("fds-per-vm") { l.fdsPerVM = v }
        if let v = try positive("objects-per-vm") { l.objectsPerVM = v }
        if let v = try positive("devices-per-vm") { l.devicesPerVM = v }
        if let v = try positive("plugin-reply-timeout-ms") { l.pluginReplyTimeoutMilliseconds = UInt64(v) }
        if let v = try positive("vm-name-bytes") { l.vmNameBytes = v }
        if let v = try positive("faults-per-fleet") { l.faultsPerFleet = v }
        if let v = try r.int("command-history-per-vm") {
            guard (0...4096).contains(v) else { throw r.error("expected an integer from 0 to 4096", key: "command-history-per-vm") }
            l.commandHistoryPerVM = v
        }
        if let v = try positive("http-clients") { l.httpClients = v }
        if let v = try positive("http-header-bytes") { l.httpHeaderBytes = v }
        if let v = try positive("http-request-timeout-ms") { l.httpRequestTimeoutMilliseconds = UInt64(v) }
        if let v = try positive("http-output-bytes") { l.httpOutputBytes = v }
        if let v = try positive("page-vms") { l.pageVMs = v }
        if let v = try positive("page-text-bytes") { l.pageTextBytes = v }
        if let v = try positive("session-output-stall-ms") { l.sessionOutputStallMilliseconds = UInt64(v) }
        if let v = try positive("final-flush-ms") { l.finalFlushMilliseconds = UInt64(v) }
        if let v = try positive("negotiation-timeout-ms") { l.negotiationTimeoutMilliseconds = UInt64(v) }
        if let v = try positive("parser-bytes-per-fleet") { l.parserBytesPerFleet = v }
        if let v = try positive("session-turn-us") { l.sessionTurnMicroseconds = UInt64(v) }
        if let v = try positive("fd-stall-ms") { l.fdStallMilliseconds = UInt64(v) }
        if let v = try positive("pool-jobs-per-vm") { l.poolJobsPerVM = v }
        return l
    }
}

extension VMSpec {
    static let keys: Set<String> = [
        "name", "count", "first", "template", "guest-name", "uuid", "machine", "arch", "cpu", "memory", "smp", "kvm",
        "start-paused", "no-shutdown", "no-reboot", "powerdown-delay-ms", "plugins", "incoming",
        "backend", "upstream", "launch", "reconnect-ms", "read-only", "allow", "deny",
    ]

    /// One VM from a `vms:` entry given as JSON (no `count`), checked as the
    /// config file's entries are: what `vm-create` and `qmpfleet-emulator`
    /// build VMs from. `source` names the entry in error texts.
    public static func single(entry: JSONObject, source: String, config: FleetConfig) throws(FleetError) -> VMSpec {
        try VMEntry(single: entry, source: source, config: config).spec(number: 0, nameLimit: config.limits.vmNameBytes)
    }

    /// One `vms:` entry, expanded by `count` (`ci-{n}` with n from `first`, default 0).
    static func expand(_ r: ConfigReader, config: FleetConfig) throws(FleetError) -> [VMSpec] {
        let entry = try VMEntry(r, config: config)
        var specs: [VMSpec] = []
        specs.reserveCapacity(entry.count)
        for offset in 0..<entry.count {
            specs.append(try entry.spec(number: offset, nameLimit: config.limits.vmNameBytes))
        }
        return specs
    }

    /// Applies the keys of `r` over `base` (a template, or a fresh spec).
    static func parse(_ r: ConfigReader, base: VMSpec, config: FleetConfig) throws(FleetError) -> VMSpec {
        try r.checkKeys(keys)
        var spec = base
        if let g = try r.string("guest-name") { spec.guestName = g }
        if let u = try r.string("uuid") { spec.uuid = u }
        if let m = try r.string("machine") { spec.machine.type = m }
        if let a = try r.string("arch") { spec.machine.arch = a }
        if let model = try r.string("cpu") { spec.machine.cpuModel = model }
        if let k = try r.bool("kvm") { spec.machine.kvmEnabled = k }
        if let canonical = MachineCatalog.canonicalName(spec.machine.type, arch: spec.machine.arch) {
            spec.machine.type = canonical
        }
        if let memory = try r.child("memory") {
            if case .object = memory.value {
                try memory.checkKeys(["size", "slots", "maxmem"])
                if let s = try memory.size("size") { spec.machine.ramBytes = s }
                if let s = try memory.int("slots") { spec.machine.memorySlots = s }
                if let m = try memory.size("maxmem") { spec.machine.maxMemoryBytes = m }
            } else if let s = try r.size("memory") {
                spec.machine.ramBytes = s
            }
        }
        if let smp = try r.child("smp") {
            try smp.checkKeys(["cpus", "sockets", "cores", "threads", "maxcpus"])
            var t = spec.machine.smp
            if let v = try smp.int("cpus") { t.cpus = v }
            if let v = try smp.int("sockets") { t.sockets = v }
            if let v = try smp.int("cores") { t.cores = v }
            if let v = try smp.int("threads") { t.threads = v }
            t.maxCPUs = try smp.int("maxcpus") ?? max(t.cpus, t.maxCPUs)
            guard t.cpus >= 1, t.sockets >= 1, t.cores >= 1, t.threads >= 1 else {
                throw smp.error("cpus, sockets, cores and threads must be at least 1")
            }
            spec.machine.smp = t
        }
        // After the template's values and the entry's: either may be the bad one.
        if let problem = spec.machine.smpProblem() { throw (try r.child("smp") ?? r).error(problem) }
        if let problem = spec.machine.memoryProblem() { throw (try r.child("memory") ?? r).error(problem) }
        if let p = try r.bool("start-paused") { spec.startPaused = p }
        if let incoming = try r.string("incoming") {
            // Only QEMU's `-incoming defer`: the URI comes with migrate-incoming.
            guard incoming == "defer" else { throw r.error("expected 'defer'", key: "incoming") }
            spec.incomingDeferred = true
        }
        if let s = try r.bool("no-shutdown") { spec.noShutdown = s }
        if let s = try r.bool("no-reboot") { spec.noReboot = s }
        if let d = try r.int("powerdown-delay-ms") {
            guard d >= 0 else { throw r.error("expected milliseconds >= 0", key: "powerdown-delay-ms") }
            spec.powerdownDelayMilliseconds = UInt64(d)
        }
        if let backend = try r.string("backend") {
            switch backend {
            case "simulated":
                spec.proxy = nil
            case "proxy":
                guard let path = try r.string("upstream") else {
                    throw r.error("a proxied VM needs the path of its QEMU's QMP socket", key: "upstream")
                }
                var upstream = ProxyUpstream(socketPath: path)
                upstream.launch = try r.stringArray("launch")
                if let ms = try r.int("reconnect-ms") { upstream.reconnectMilliseconds = UInt64(max(1, ms)) }
                upstream.policy.readOnly = try r.bool("read-only") ?? false
                upstream.policy.allow = Set(try r.stringArray("allow") ?? [])
                upstream.policy.deny = Set(try r.stringArray("deny") ?? [])
                spec.proxy = upstream
            default:
                throw r.error("expected 'simulated' or 'proxy'", key: "backend")
            }
        }
        if let plugins = try r.child("plugins") {
            switch plugins.value {
            case .object(let sections):
                for (name, section) in sections {
                    spec.plugins[name] = section.isNull ? .object([:]) : section
                }
            case .array(let names):
                for (i, name) in names.enumerated() {
                    guard let n = name.stringValue else { throw plugins.element(i, name).error("expected a plugin name") }
                    if spec.plugins[n] == nil { spec.plugins[n] = .object([:]) }
                }
            default:
                throw plugins.error("expected a mapping of plugin name to its settings, or a list of names")
            }
        }
        return spec
    }
}

extension String {
    /// `ci-{n}` → `ci-7`.
    func replacingPlaceholder(with n: Int) -> String {
        // Most names (every `vm-create`'s) have no placeholder: one byte scan.
        guard utf8.contains(UInt8(ascii: "{")) else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: "{n}") {
            result += rest[..<range.lowerBound]
            result += String(n)
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

/// What a VM name may be: it becomes a file name (`<name>.qmp`).
public enum VMNameRule {
    /// Nil when fine, else what is wrong with it.
    public static func problem(with name: String, limit: Int) -> String? {
        if name.isEmpty { return "a VM name must not be empty" }
        if name.utf8.count > limit { return "VM name '\(name)' is longer than \(limit) bytes" }
        if name == "." || name == ".." || name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == 0 }) {
            return "VM name '\(name)' must not contain '/', NUL, or be '.' or '..'"
        }
        if name == "fleet" { return "'fleet' is reserved for the control socket" }
        return nil
    }
}
