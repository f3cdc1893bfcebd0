import QMPPluginKit
import QMPWire

/// The plugin's config section, read once when the VM starts.
///
/// ```yaml
/// plugins:
///   block:
///     job-rate: 1G            # bytes/s a job copies when its speed is 0
///     drives:
///       - {id: drive0, device: virtio0, file: /var/lib/a.qcow2, format: qcow2, size: 10G, interface: virtio}
///       - {id: cd0, device: cdrom0, media: cdrom, interface: ide, file: /srv/boot.iso}
/// ```
struct BlockConfig {
    /// QEMU's default job rate does not exist (jobs run flat out); the
    /// simulation needs one so progress is visible.
    static let defaultJobRate: Int64 = 1 << 30
    /// How often a running job advances.
    static let defaultTickMilliseconds: UInt64 = 100
    /// How long the simulated guest takes to open a locked tray after an
    /// eject request, and to let go of an unplugged device.
    static let defaultGuestDelayMilliseconds: UInt64 = 50

    var jobRate = defaultJobRate
    var tickMilliseconds = defaultTickMilliseconds
    var guestDelayMilliseconds = defaultGuestDelayMilliseconds
    /// Whether the guest honours eject requests on a locked tray.
    var guestHonoursEject = true
    var drives: [DriveConfig] = []
    /// The drives built from these settings, shared by the VMs made from
    /// them (`SharedDriveGraph`).
    let sharedGraph = SharedDriveGraph()

    init(_ value: JSONValue) throws(PluginError) {
        guard let o = try PluginConfig.mapping(value, plugin: "block", notAMapping: "config must be a map") else { return }
        if let rate = o["job-rate"] {
            guard let bytes = DriveConfig.size(rate), bytes > 0 else { throw PluginError("block: job-rate: not a size") }
            jobRate = bytes
        }
        if let tick = o["job-tick-ms"]?.int64Value, tick > 0 { tickMilliseconds = UInt64(tick) }
        if let delay = o["guest-delay-ms"]?.int64Value, delay >= 0 { guestDelayMilliseconds = UInt64(delay) }
        if let honours = o["guest-honours-eject"]?.boolValue { guestHonoursEject = honours }
        var counters: [String: Int] = [:]
        for (i, entry) in (o["drives"]?.arrayValue ?? []).enumerated() {
            guard let drive = entry.objectValue else { throw PluginError("block: drives[\(i)] must be a map") }
            drives.append(try DriveConfig(drive, index: i, counters: &counters))
        }
    }
}

/// One `drives:` entry: a `-drive` and the device it is attached to.
///
/// Keys: `id` (backend name; default as QEMU names `if=` drives: virtio0,
/// ide0-hd0, ide1-cd0, scsi0-hd0, floppy0), `device` (qdev id of the guest
/// device; none: an anonymous device), `node-name` (format node; default
/// `#blockNNN`), `file`, `format` (qcow2, raw, ...; default raw), `size`
/// (virtual size, 10G), `allocated` (bytes of data in the image),
/// `media` (disk or cdrom), `interface` (virtio, ide, scsi, floppy, none),
/// `readonly`, `backing` (list of `{file, format, size}` below the image,
/// nearest first), `snapshots` (internal snapshot names).
struct DriveConfig {
    var id: String
    var device: String?
    var nodeName: String?
    var file: String?
    var format: String
    var size: Int64
    var allocated: Int64
    var cdrom: Bool
    var interface: String
    var readOnly: Bool
    var backing: [(file: String, format: String)]
    var snapshots: [String]

    static let interfaces: Set<String> = ["virtio", "ide", "scsi", "floppy", "none"]
    static let defaultSize: Int64 = 10 << 30
    /// QEMU 7.2's BDRV_MAX_LENGTH: Int64.max aligned down to 1 GiB. Sizes
    /// past it made the image's allocation arithmetic trap (ending every VM).
    static let maxSize: Int64 = Int64.max & ~((1 << 30) - 1)

    init(_ o: JSONObject, index: Int, counters: inout [String: Int]) throws(PluginError) {
        cdrom = o["media"]?.stringValue == "cdrom"
        interface = o["interface"]?.stringValue ?? (cdrom ? "ide" : "virtio")
        guard DriveConfig.interfaces.contains(interface) else { throw PluginError("block: drives[\(index)]: unknown interface '\(interface)'") }
        let unit = counters[interface, default: 0]
        counters[interface] = unit + 1
        let defaultID: String
        switch interface {
        case "ide": defaultID = "ide\(unit / 2)-\(cdrom ? "cd" : "hd")\(unit % 2)"
        case "scsi": defaultID = "scsi0-\(cdrom ? "cd" : "hd")\(unit)"
        case "floppy": defaultID = "floppy\(unit)"
        default: defaultID = "\(interface)\(unit)"
        }
        id = o["id"]?.stringValue ?? defaultID
        device = o["device"]?.stringValue
        nodeName = o["node-name"]?.stringValue
        file = o["file"]?.stringValue
        format = o["format"]?.stringValue ?? "raw"
        guard let size = o["size"].map(DriveConfig.size) ?? (cdrom ? 4 << 20 : DriveConfig.defaultSize) else {
            throw PluginError("block: drives[\(index)]: size is not a size")
        }
        guard (0...DriveConfig.maxSize).contains(size) else {
            throw PluginError("block: drives[\(index)]: size must be from 0 to \(DriveConfig.maxSize) bytes (QEMU's largest image)")
        }
        self.size = size
        let allocated = o["allocated"].flatMap(DriveConfig.size) ?? 0
        guard allocated >= 0 else { throw PluginError("block: drives[\(index)]: allocated must not be negative") }
        self.allocated = min(allocated, size)
        readOnly = o["readonly"]?.boolValue ?? cdrom
        backing = (o["backing"]?.arrayValue ?? []).compactMap { b in
            guard let file = b["file"]?.stringValue else { return nil }
            return (file, b["format"]?.stringValue ?? "qcow2")
        }
        snapshots = (o["snapshots"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// A byte count, or a number with a K/M/G/T suffix.
    static func size(_ value: JSONValue) -> Int64? {
        if let n = value.int64Value { return n }
        guard let text = value.stringValue, let last = text.last else { return nil }
        let shifts: [Character: Int64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        if let shift = shifts[Character(last.uppercased())] {
            guard let n = Int64(text.dropLast()), n >= 0, n <= Int64.max >> shift else { return nil }
            return n << shift
        }
        return Int64(text)
    }

    var model: BlockDeviceModel? {
        switch interface {
        case "virtio": return .virtioBlkPCI
        case "ide": return cdrom ? .ideCD : .ideHD
        case "scsi": return cdrom ? .scsiCD : .scsiHD
        case "floppy": return .floppy
        default: return nil
        }
    }
}
