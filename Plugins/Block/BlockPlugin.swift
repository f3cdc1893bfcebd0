import QMPPluginKit
import QMPWire

/// QEMU's block layer (`block-core.json`, `block.json`, `transaction.json`,
/// `job.json`) simulated with real state: backends and the node graph,
/// removable media with tray and guest lock, dirty bitmaps, internal and
/// external snapshots, I/O throttling, write thresholds, statistics, and
/// block jobs (stream, commit, backup, mirror) that advance on a timer.
///
/// Config keys (`plugins: {block: ...}`), all optional:
/// - `drives`: the VM's `-drive`s, each `{id, device, node-name, file, format,
///   size, allocated, media: disk|cdrom, interface: virtio|ide|scsi|floppy|none,
///   readonly, backing: [{file, format}], snapshots: [name]}` (see `DriveConfig`).
/// - `job-rate`: bytes per second a job copies when its speed is 0 (default 1G).
/// - `job-tick-ms`: how often jobs advance (default 100).
/// - `guest-delay-ms`: how long the simulated guest takes to open a locked
///   tray on an eject request and to release an unplugged disk (default 50).
/// - `guest-honours-eject`: whether the guest opens a locked tray when asked (default true).
///
/// Guest actions: `write`/`read` `{device, offset?, bytes?}`, `lock-tray`/
/// `unlock-tray`/`eject-request` `{device}`, `io-error` `{device, operation?, nospace?}`,
/// `job-error` `{job, operation?}`.
final class BlockPlugin: SharedConfigurationPlugin {
    static let name = "block"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    let config: BlockConfig
    var graph = BlockGraph() {
        didSet { queryBlockText = nil }
    }
    /// `query-block`'s answer as text, kept until the graph changes: the
    /// answer is a function of the graph alone, and building and writing
    /// its 1.4 KB for a two-drive VM was most of each request's time
    /// (docs/performance.md).
    private var queryBlockText: CanonicalJSON?
    /// Images known to the simulation by file name.
    var images: [String: ImageFile] = [:]
    /// The probes of the images the running command may open, read on a
    /// worker before it ran (`ImageProbes`); empty between commands.
    var probed: [String: Result<ImageFile, QMPError>] = [:]
    /// Host paths the running command needed and found unprobed (a
    /// backing file an image's header names): probed, then it runs again.
    var unprobed: [String] = []
    var jobs: [BlockJob] = []
    /// The NBD server and the block exports (BlockExports.swift).
    var exports = BlockExports()
    /// Devices added without an id get QOM paths in this sequence.
    /// Job starts a transaction holds back until every action has succeeded.
    var deferredJobStarts: [BlockJob]?
    /// `secret` objects by id (`BlockObjects`).
    var secrets: [String: SecretObject] = [:]
    /// `iothread` objects by id, with their settings.
    var iothreads: [String: [String: Int64]] = [:]
    /// TLS credentials objects by id (`TLSCredentials.swift`).
    var tlsCredentials: [String: TLSCredentials] = [:]
    /// `authz-simple` and `authz-list` objects' ids (`AuthzObjects.swift`).
    var authzObjects: Set<String> = []
    /// `throttle-group` objects' settings by id (`ThrottleGroupObject.swift`).
    var throttleGroups: [String: ThrottleSettings] = [:]
    /// SCSI adapters plugged with `device_add`, oldest first (`SCSIBus.swift`).
    var scsiControllers: [SCSIController] = []
    /// SCSI buses named `scsi.N` so far (adapters without an id).
    var anonymousSCSIBuses = 0

    /// A template's VMs share their decoded drives.
    static func configuration(from config: JSONValue) throws(PluginError) -> BlockConfig { try BlockConfig(config) }

    init(vm: PluginVM, configuration config: BlockConfig) throws(PluginError) {
        self.vm = vm
        self.config = config
        // Built by the first VM of these settings, shared by the others.
        let shared = config.sharedGraph.value
        if let shared {
            graph = shared.graph
            images = shared.images
        }
        for drive in self.config.drives {
            if shared == nil, case .failure(let error) = addConfiguredDrive(drive) {
                throw PluginError("block: drive \(drive.id): \(error.desc)")
            }
            // A virtio disk is a PCI device the host places on the bus.
            if drive.model == .virtioBlkPCI, let device = drive.device,
               case .failure(let error) = vm.deviceRealized(driver: BlockDeviceModel.virtioBlkPCI.rawValue, id: device,
                                                            properties: ["drive": .string(drive.id)]) {
                throw PluginError("block: drive \(drive.id): \(error.desc)")
            }
        }
        if shared == nil { config.sharedGraph.keep(graph, images: images) }
    }

    static func register(_ plugin: PluginRegistry<BlockPlugin>) {
        registerQueries(plugin)
        registerMedia(plugin)
        registerNodes(plugin)
        registerReopen(plugin)
        registerObjects(plugin)
        registerTLSCredentials(plugin)
        registerAuthz(plugin)
        registerThrottleGroups(plugin)
        registerBitmaps(plugin)
        registerSnapshots(plugin)
        registerJobStarts(plugin)
        registerJobControl(plugin)
        registerTransaction(plugin)
        registerDevices(plugin)
        registerSCSIControllers(plugin)
        registerGuestActions(plugin)
        registerExports(plugin)
        registerGenericJobs(plugin)
        registerDebugCommands(plugin)
        plugin.prepare(imageOpeningCommands, answering: { this, arguments, reply, run in
            this.probeImages(for: arguments, reply: reply, run: run)
        })
    }

    var queryBlockAnswer: CanonicalJSON {
        if let text = queryBlockText { return text }
        let text = CanonicalJSON(graph.queryBlock)
        queryBlockText = text
        return text
    }

    static func registerQueries(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.textCommand(QAPI.QueryBlockCommand.self) { this, _ in .success(this.queryBlockAnswer) }
        plugin.command(QAPI.QueryNamedBlockNodesCommand.self) { this, _ in .success(this.graph.queryNamedBlockNodes) }
        plugin.command(QAPI.QueryBlockstatsCommand.self) { this, args in
            .success(this.graph.queryBlockStats(nodesOnly: args.queryNodes ?? false, nowNs: this.nowNanoseconds))
        }
    }

    var nowNanoseconds: Int64 { Int64(vm.nowMilliseconds) * 1_000_000 }

}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: BlockPlugin.self) }
