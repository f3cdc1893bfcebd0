import QMPWire

/// One node of the block graph (QEMU's BlockDriverState): a format or
/// protocol driver over an image, with its children named by node-name.
///
/// A `-drive` gives two nodes, a format node (`qcow2`, `raw`) on top of a
/// protocol node (`file`); both get `#blockNNN` names unless the config
/// names them. Nodes are values: the graph is copied whole to undo a failed
/// `transaction`.
struct BlockNode {
    var name: String
    var driver: String
    var filename: String
    var virtualSize: Int64
    /// Bytes the image file takes on the host (the protocol node's size).
    var actualSize: Int64
    /// Bytes of guest data in this layer; what a commit has to copy.
    var allocated: Int64 = 0
    var readOnly: Bool
    var encrypted: Bool = false
    /// The protocol child (`file`), for format nodes.
    var file: String?
    /// The backing node, for COW formats.
    var backing: String?
    /// The backing file name written in the image header.
    var backingFilename: String?
    /// Added with blockdev-add: only these may be blockdev-del'd.
    var monitorOwned: Bool = false
    var writeThreshold: UInt64 = 0
    var bitmaps: [DirtyBitmap] = []
    var snapshots: [InternalSnapshot] = []
    /// Per-node counters (only `wr_highest_offset` moves on a node).
    var wrHighestOffset: Int64 = 0

    /// Drivers that carry a backing chain.
    static let cowDrivers: Set<String> = ["qcow2", "qcow", "qed", "vmdk", "vhdx", "vpc"]
    /// Drivers with internal snapshots.
    static let snapshotDrivers: Set<String> = ["qcow2", "rbd", "sheepdog"]
    /// Protocol drivers: the leaves of a chain.
    static let protocolDrivers: Set<String> = ["file", "host_device", "host_cdrom", "null-co", "null-aio", "nbd", "iscsi"]

    var isFormat: Bool { !BlockNode.protocolDrivers.contains(driver) }
    /// The drivers that read zeroes (or garbage) and write nowhere.
    static let nullDrivers: Set<String> = ["null-co", "null-aio"]

    /// A null node's filename as QEMU's null_refresh_filename makes it:
    /// `null-co://` when no option changes what it reads, else the `json:`
    /// of its driver and strong options (`size`, `read-zeroes`), written as
    /// QEMU writes a QDict.
    static func nullFilename(_ driver: String, _ options: JSONObject) -> String {
        var strong: JSONObject = ["driver": .string(driver)]
        for key in ["size", "read-zeroes"] { if let value = options[key] { strong[key] = value } }
        return strong.count == 1 ? "\(driver)://" : "json:" + JSONValue.object(strong).jsonText
    }

    /// A length as bdrv_getlength gives it: whole 512-byte sectors, rounded up.
    static func sectorAligned(_ size: Int64) -> Int64 {
        let (sum, overflow) = size.addingReportingOverflow(511)
        return (overflow ? Int64.max : sum) & ~511
    }
    var supportsBacking: Bool { BlockNode.cowDrivers.contains(driver) }
    var clusterSize: Int64? { driver == "qcow2" ? 65536 : nil }

    /// `format-specific` of ImageInfo, for qcow2 only (as this build shows it).
    var formatSpecific: JSONValue? {
        guard driver == "qcow2" else { return nil }
        let data: JSONObject = ["compat": "1.1", "extended-l2": false, "lazy-refcounts": false, "corrupt": false,
                                "refcount-bits": 16, "compression-type": "zlib"]
        return ["type": "qcow2", "data": .object(data)]
    }
}

/// An internal (qcow2) snapshot: QEMU's SnapshotInfo.
struct InternalSnapshot {
    var id: String
    var name: String
    var dateSeconds: Int64
    var dateNanoseconds: Int64
    var vmClockNanoseconds: Int64

    var info: JSONValue {
        ["id": .string(id), "name": .string(name), "vm-state-size": 0, "date-sec": .int(dateSeconds),
         "date-nsec": .int(dateNanoseconds), "vm-clock-sec": .int(vmClockNanoseconds / 1_000_000_000),
         "vm-clock-nsec": .int(vmClockNanoseconds % 1_000_000_000)]
    }
}
