import QMPPluginKit
import QMPWire

/// What one VM's clients may make the block plugin hold. QEMU 7.2 bounds
/// none of these (a qcow2 image takes 65,536 internal snapshots), so a
/// client looping `blockdev-add`, `blockdev-snapshot-sync`,
/// `block-dirty-bitmap-add`, `block-export-add` or jobs it never dismisses
/// could make its VM, and with it the process that serves thousands of
/// VMs, hold unbounded memory. Past a limit the command is refused before
/// the graph changes, with a `GenericError` that names the limit; what the
/// config makes counts but is never refused. Named constants here, as the
/// chardev plugin's `chardevsPerVM`: the host cannot count what a plugin
/// holds (docs/security.md).
enum BlockLimits {
    /// Block nodes (`blockdev-add`, the overlays of external snapshots, the
    /// targets of `drive-mirror`/`drive-backup`, a new medium's nodes).
    static let nodesPerVM = 1024
    /// Image files the simulation created and keeps the format of (a new
    /// snapshot overlay, a mirror or backup target), by path.
    static let imagesPerVM = 1024
    /// Jobs, running or concluded and not yet dismissed (a job made with
    /// `auto-dismiss: false` stays until `job-dismiss`).
    static let jobsPerVM = 256
    /// Dirty bitmaps over all of the VM's nodes.
    static let bitmapsPerVM = 1024
    /// Internal snapshots over all of the VM's nodes
    /// (`blockdev-snapshot-internal-sync`, `snapshot-save`).
    static let internalSnapshotsPerVM = 1024
    /// Block exports (`block-export-add`, `nbd-server-add`): several may
    /// export one node under different ids.
    static let exportsPerVM = 256

    /// The refusal past a limit of `count` `what`s.
    static func refusal(_ count: Int, _ what: String) -> QMPError {
        .generic("The VM holds \(count) \(what) already (the block plugin's limit)")
    }
}
