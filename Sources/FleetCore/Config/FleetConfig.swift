import PluginHost
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// One VM as the configuration describes it, after template and count expansion.
public struct VMSpec: Sendable {
    public var name: String
    /// `-name guest=...`: what `query-name` reports (nil: no name).
    public var guestName: String?
    public var uuid: String
    public var machine = MachineSpec()
    /// Like `-S`: start in prelaunch, wait for `cont`.
    public var startPaused = false
    /// `incoming: defer` (QEMU's `-incoming defer`): the VM starts in
    /// `inmigrate` and waits for `migrate-incoming`.
    public var incomingDeferred = false
    /// Like `-no-shutdown`: a guest power-off leaves the VM in state
    /// `shutdown` instead of ending it.
    public var noShutdown = true
    /// Like `-no-reboot`: a reset (guest reboot or `system_reset`) shuts
    /// the VM down instead.
    public var noReboot = false
    /// How long the simulated ACPI guest takes to power off after `system_powerdown`.
    public var powerdownDelayMilliseconds: UInt64 = 500
    /// Plugin name → its config section, in config order.
    public var plugins: JSONObject = [:]
    /// The template it came from, for `query-vms`.
    public var template: String?
    /// Set for `backend: proxy`: the VM is a real QEMU behind the fleet.
    public var proxy: ProxyUpstream?
    /// Where it serves QMP; empty: `<socket-dir>/<name>.qmp`.
    public var monitors: [MonitorSpec] = []
    /// Real host threads standing for the vCPUs, by index: management
    /// software moves vCPU threads into cgroups, so `qmpfleet-emulator`
    /// makes them. Empty: ids derived from the creation order.
    public var vcpuThreadIDs: [Int] = []
    /// The VM's place in creation order when fixed in advance: a sharded
    /// fleet creates its config's VMs on several threads at once, and they
    /// still list (and number their vCPU threads) in config order.
    var creationSequence: Int?
    /// Set for the config file's `vms:` entries: SIGHUP's reload manages
    /// those, and leaves VMs made with `vm-create` or handed over with
    /// `vm-attach-monitor` alone.
    public var isFromConfigFile = false

    public init(name: String) {
        self.name = name
        self.guestName = name
        self.uuid = VMSpec.derivedUUID(for: name)
    }

    /// A stable UUID from the name, so a VM keeps its UUID across restarts
    /// and two VMs never share one (RFC 4122 layout, version 8 bits).
    static func derivedUUID(for name: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in name.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 0x9e37_79b9
        }
        let timeHigh = (a >> 16) & 0x0fff | 0x8000
        let clock = (b >> 48) & 0x3fff | 0x8000
        // Each field as lowercase hex of its width, written into the
        // string's own 36 bytes: the same text as `String(v, radix: 16)`
        // padded and joined, which was 12 k instructions of each VM a
        // `vm-create` makes.
        let fields: [(value: UInt64, digits: Int)] = [(a >> 32, 8), ((a >> 16) & 0xffff, 4), (timeHigh, 4), (clock, 4), (b & 0xffff_ffff_ffff, 12)]
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for (n, field) in fields.enumerated() {
                if n > 0 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                for digit in (0..<field.digits).reversed() {
                    let nibble = UInt8(truncatingIfNeeded: field.value >> UInt64(digit * 4)) & 0xf
                    text[at] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                    at += 1
                }
            }
            return at
        }
    }
}

/// The fleet's configuration (`config/fleet.yaml`).
public struct FleetConfig: Sendable {
    public var socketDirectory: String = FleetConfig.defaultSocketDirectory
    /// Mode of each VM's socket file; the directory gets the same bits plus x.
    public var socketMode: mode_t = 0o600
    public var qemuVersion = QEMUVersion.default72
    /// Where plugins are searched, before the executable's own directory.
    public var pluginDirectories: [String] = []
    /// Directories under which commands may create files by path
    /// (screendump, dumps, file chardevs); fds passed by clients are always fine.
    public var allowedFileDirectories: [String] = ["/tmp", "/var/tmp"]
    /// Files readable wherever they are: those named on the emulator's
    /// command line (never from a client or the config file).
    public var trustedFiles: Set<String> = []
    public var limits = Limits()
    /// Loop threads the VMs are spread over (`loops:`); 0, the default,
    /// means one per online CPU. Each VM lives on one of them.
    public var loops = 0
    public var templates: [String: VMSpec] = [:]
    public var vms: [VMSpec] = []
    /// Faults armed from the start (`faults:`), in config order.
    public var faults: [FaultSpec] = []
    /// Where the config came from, for messages.
    public var source: String = "<built-in>"

    public init() {}

    /// `$XDG_RUNTIME_DIR/qmpfleet` (a directory only the user can enter)
    /// where that is set, else `/tmp/qmpfleet-<uid>`.
    public static var defaultSocketDirectory: String {
        defaultSocketDirectory(runtimeDirectory: getenv("XDG_RUNTIME_DIR").map { String(cString: $0) })
    }

    static func defaultSocketDirectory(runtimeDirectory: String?) -> String {
        if let runtimeDirectory, runtimeDirectory.hasPrefix("/") { return "\(runtimeDirectory)/qmpfleet" }
        return "/tmp/qmpfleet-\(getuid())"
    }

    /// The file policy every path a client names goes through. The socket
    /// directory is never in it: a client's file or socket there could
    /// stand in for the control socket or another VM's.
    public var allowedFiles: AllowedFiles {
        AllowedFiles(directories: allowedFileDirectories, excluded: [socketDirectory], trustedFiles: trustedFiles)
    }

    /// True when `path` lies beneath an allowed directory and not in the
    /// socket directory (lexically; opening it checks the rest).
    public func isAllowedFilePath(_ path: String) -> Bool {
        allowedFiles.isBeneathAllowedDirectory(path)
    }

    /// The plugin search path: configured directories, then the executable's.
    public var pluginSearchPath: [String] {
        pluginDirectories + [PluginLoader.executableDirectory]
    }
}
