import QMPPluginKit
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// Live migration (`migration.json`): `migrate` to another simulated VM
/// (of this fleet, another fleet or a `qmpfleet-emulator`) started with
/// `incoming: defer`, `migrate-incoming` on that one, and everything that
/// shapes and watches it: parameters and capabilities, query-migrate,
/// MIGRATION and MIGRATION_PASS, migrate-continue, migrate_cancel,
/// postcopy with migrate-pause and migrate-recover. The VM's device state
/// (each plugin's `vm_save_state`) really travels over the socket, in the
/// stream `MigrationStream` defines. Also the seed's XBZRLE cache-size
/// commands (gone from QEMU 7.2, served anyway and kept equal to the
/// `xbzrle-cache-size` parameter), and the Xen and COLO commands with the
/// answers QEMU gives outside Xen and COLO.
///
/// Config keys (`plugins: {migration: ...}`):
/// - `xbzrle-cache-size`: the cache size at start (bytes, a power of two;
///   default 64 MiB as QEMU).
/// - `stream-outbox-bytes`, `max-section-bytes`: see `MigrationLimits`.
final class MigrationPlugin: QMPPlugin {
    static let name = "migration"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM
    var parameters = MigrationParameters()
    var capabilities = MigrationCapabilities()
    var dirtyRate = DirtyRateMeasurement()
    let limits: MigrationLimits
    /// Started with `incoming: defer` (QEMU's `-incoming defer`).
    let incomingDeferred: Bool
    /// The last migration out of this VM, and the one into it.
    var outgoing: OutgoingMigration?
    var incoming: IncomingMigration?

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        try PluginConfig.checkKeys(config.objectValue ?? [:], plugin: "migration",
                                   keys: .expected(["xbzrle-cache-size"] + MigrationLimits.keys))
        limits = try MigrationLimits(config: config)
        incomingDeferred = vm.runState == "inmigrate"
        if let size = config["xbzrle-cache-size"] {
            if case .failure(let error) = parameters.apply(["xbzrle-cache-size": size]) {
                throw PluginError("migration: \(error.desc)")
            }
        }
    }

    /// The guest's RAM: QEMU 2.8 refused a larger XBZRLE cache.
    var ramSize: UInt64 {
        let ram = vm.machine.ramSize
        return ram > 0 ? ram : 128 << 20
    }

    static func register(_ plugin: PluginRegistry<MigrationPlugin>) {
        registerMigrationCommands(plugin)
        plugin.command(QAPI.QueryMigrateCapabilitiesCommand.self) { this, _ in .success(this.capabilities.list) }
        plugin.command(QAPI.MigrateSetCapabilitiesCommand.self) { this, args in
            this.capabilities.apply(args.capabilities)
            return .success(.object([:]))
        }
        plugin.command(QAPI.QueryMigrateParametersCommand.self) { this, _ in .success(.object(this.parameters.values)) }
        // The parameters are a table keyed by their QAPI names (query-migrate-
        // parameters shows it back), so it takes the checked members as given.
        plugin.command(QAPI.MigrateSetParametersCommand.self, keepingMembers: { this, _, given in
            this.parameters.apply(given).map { .object([:]) }
        })
        plugin.command(QAPI.MigrateSetCacheSizeCommand.self) { this, args in
            this.setCacheSize(args.value).map { .object([:]) }
        }
        plugin.command(QAPI.QueryMigrateCacheSizeCommand.self) { this, _ in .success(.uint(this.parameters.xbzrleCacheSize)) }
        plugin.command(QAPI.XenSetGlobalDirtyLogCommand.self) { _, _ in .success(.object([:])) }
        plugin.asyncCommand(QAPI.XenLoadDevicesStateCommand.self) { this, args, reply in
            this.loadDevicesState(args.filename, reply: reply)
        }
        plugin.command(QAPI.XColoLostHeartbeatCommand.self) { _, _ in
            .failure(.generic("The feature 'colo' is not enabled"))
        }
        registerDirtyRate(plugin)
    }

    func destroy() {
        outgoing?.cancelQuietly()
        incoming?.shutDown()
    }

    /// QEMU 2.8's `qmp_migrate_set_cache_size`: the value is rounded down to
    /// a power of two (`pow2floor`) and becomes xbzrle-cache-size.
    func setCacheSize(_ value: Int64) -> Result<Void, QMPError> {
        guard value >= 0 else { return .failure(.generic("Parameter 'cache size' expects exceeding address space")) }
        guard UInt64(value) <= ramSize else { return .failure(.generic("Parameter 'cache size' expects exceeds guest ram size ")) }
        guard UInt64(value) >= MigrationParameters.targetPageSize else {
            return .failure(.generic("Parameter 'cache size' expects is smaller than page size"))
        }
        let rounded = UInt64(1) << (63 - UInt64(value).leadingZeroBitCount)
        parameters.setXBZRLECacheSize(rounded)
        return .success(())
    }

    /// `qmp_xen_load_devices_state`: opens the file, then reads a migration
    /// stream; anything that is not one (no "QEVM" magic) is QEMU's I/O error.
    /// The read is the host's `fd_transfer`: an fd set's pipe that nobody
    /// writes (QEMU blocks its main loop on it) holds neither the loop nor
    /// a pool thread, and the command answers when the bytes come.
    func loadDevicesState(_ filename: String, reply: Reply) {
        // Opened off the loop: a hung FUSE or NFS mount ignores O_NONBLOCK.
        vm.openFile(filename, flags: O_RDONLY, for: reply) { [vm] opened in
            switch opened {
            case .failure(let error): reply.failure(.generic("Unable to open \(filename): \(OpenFailure.reason(error.desc))"))
            case .success(let fd):
                vm.read(upTo: 4, from: fd, closing: true) { result in
                    guard case .success(let magic) = result, magic == Array("QEVM".utf8) else {
                        return reply.failure(.generic("An IO error has occurred"))
                    }
                    reply.success()
                }
            }
        }
    }

}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: MigrationPlugin.self) }
