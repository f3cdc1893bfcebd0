import Glibc
import QMPPluginKit
import QMPWire

/// COLO (COarse-grained LOck-stepping) and Xen replication, QEMU's
/// `migration.json` commands for a VM that is not in a COLO pair: COLO
/// mode `none`, no replicated block device (so the replication commands
/// succeed with nothing to act on, as QEMU 7.2's do), and
/// `xen-save-devices-state`, which writes the device state as a migration
/// stream that `xen-load-devices-state` (migration plugin) reads back.
///
/// Takes no settings: entering COLO needs a migration with the
/// `x-colo` capability between two VMs, which is not simulated.
final class COLOPlugin: QMPPlugin {
    static let name = "colo"
    static var schema: [UInt8] { PackageResources.schema_json }

    let vm: PluginVM

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        _ = try PluginConfig.section(config, plugin: "colo", keys: .expected([]),
                                     notAMapping: "takes no settings (COLO pairs are not simulated)")
    }

    /// A migration stream with no device section: QEMU_VM_FILE_MAGIC,
    /// QEMU_VM_FILE_VERSION (3), QEMU_VM_EOF.
    static let emptyDeviceState: [UInt8] = Array("QEVM".utf8) + [0, 0, 0, 3, 0x1f]

    /// `qmp_xen_save_devices_state`: the file is created (0660 & umask, as
    /// qio_channel_file_new_path does; the fleet's policy narrows it to
    /// 0600) and holds the stream, written through the host's `fd_transfer`
    /// (a pipe a client passed and never drains holds no thread).
    func saveDevicesState(_ filename: String, reply: Reply) {
        // Opened off the loop: a hung FUSE or NFS mount ignores O_NONBLOCK.
        vm.openFile(filename, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o660, for: reply) { [vm] opened in
            switch opened {
            case .failure(let error): reply.failure(.generic("Unable to open \(filename): \(OpenFailure.reason(error.desc))"))
            case .success(let fd):
                vm.write(COLOPlugin.emptyDeviceState, to: fd, closing: true) { error in
                    guard error == 0 else { return reply.failure(.generic("An IO error has occurred")) }
                    reply.success()
                }
            }
        }
    }

    static func register(_ plugin: PluginRegistry<COLOPlugin>) {
        plugin.command(QAPI.QueryColoStatusCommand.self) { _, _ in
            .success(["mode": "none", "last-mode": "none", "reason": "none"])
        }
        plugin.command(QAPI.QueryXenReplicationStatusCommand.self) { _, _ in .success(["error": false]) }
        plugin.command(QAPI.XenColoDoCheckpointCommand.self) { _, _ in .success(.object([:])) }
        plugin.command(QAPI.XenSetReplicationCommand.self) { _, args in
            if args.enable, args.failover != nil {
                return .failure(.generic("Parameter 'failover' is only for stopping replication"))
            }
            return .success(.object([:]))
        }
        plugin.asyncCommand(QAPI.XenSaveDevicesStateCommand.self) { this, args, reply in
            this.saveDevicesState(args.filename, reply: reply)
        }
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: COLOPlugin.self) }
