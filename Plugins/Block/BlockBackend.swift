import QMPPluginKit
import QMPWire

/// A block backend (QEMU's BlockBackend): what a guest device is attached
/// to. Named backends come from `-drive id=...`; a device attached straight
/// to a node gets an anonymous one (device name "").
struct BlockBackend {
    var name: String
    /// The root node, nil when no medium is inserted.
    var root: String?
    /// The attached guest device, if any.
    var device: AttachedDevice?
    var trayOpen = false
    /// Locked by the guest (ATAPI PREVENT ALLOW MEDIUM REMOVAL).
    var locked = false
    var ioStatus = "ok"
    var throttle: ThrottleSettings?
    var stats = BlockDeviceStats()
    /// Read-only backend (`readonly: true` or a CD-ROM).
    var readOnly = false

    var removable: Bool { device?.model.hasMedia ?? true }
    var hasTray: Bool { device?.model.hasTray ?? false }
}

/// A guest device attached to a backend.
struct AttachedDevice {
    /// Its id and QOM path (a named device's path is written when asked
    /// for: `NewDevice`).
    let device: NewDevice
    var model: BlockDeviceModel
    /// A `scsi-hd`'s or `scsi-cd`'s place on its adapter's bus (none for a
    /// configured `interface: scsi` drive: the fleet makes no adapter for it).
    var scsi: SCSIAddress?
    var id: String? { device.id }
    /// QOM path of the device, for lookups by path.
    var path: String { device.qomPath }

    init(_ device: NewDevice, model: BlockDeviceModel, scsi: SCSIAddress? = nil) {
        self.device = device
        self.model = model
        self.scsi = scsi
    }

    /// What query-block shows as `qdev`: the id, or the QOM path of the
    /// device that holds the backend (virtio-blk's inner virtio-backend).
    var qdev: String {
        if model == .virtioBlkPCI { return path + "/virtio-backend" }
        return id ?? path
    }
}

/// The guest device models this plugin drives.
enum BlockDeviceModel: String, CaseIterable {
    case virtioBlkPCI = "virtio-blk-pci"
    case ideHD = "ide-hd"
    case ideCD = "ide-cd"
    case scsiHD = "scsi-hd"
    case scsiCD = "scsi-cd"
    case floppy = "floppy"

    /// Removable media (change_media_cb).
    var hasMedia: Bool { self == .ideCD || self == .scsiCD || self == .floppy }
    /// A tray that opens (is_tray_open); floppies have none.
    var hasTray: Bool { self == .ideCD || self == .scsiCD }
    var isCDROM: Bool { self == .ideCD || self == .scsiCD }
}
