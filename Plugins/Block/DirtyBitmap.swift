import QMPWire

/// A dirty bitmap on a node: which granularity-sized chunks the guest wrote
/// since it was created or cleared. `count` is in bytes, as QEMU reports it.
struct DirtyBitmap {
    var name: String
    var granularity: Int64
    var persistent: Bool
    var recording: Bool
    /// Set while a job (an incremental backup) uses the bitmap.
    var busy: Bool = false
    /// Dirty chunk indices.
    var dirty: Set<Int64> = []

    /// The default granularity for a node: the cluster size, clamped to
    /// [4 KiB, 64 KiB], as `bdrv_get_default_bitmap_granularity` picks it.
    static func defaultGranularity(for node: BlockNode) -> Int64 {
        min(max(node.clusterSize ?? 4096, 4096), 65536)
    }

    func count(virtualSize: Int64) -> Int64 {
        var bytes: Int64 = 0
        for chunk in dirty { bytes += min(granularity, max(0, virtualSize - chunk * granularity)) }
        return bytes
    }

    mutating func mark(offset: Int64, bytes: Int64) {
        guard recording, bytes > 0 else { return }
        var chunk = offset / granularity
        let last = (offset + bytes - 1) / granularity
        while chunk <= last {
            dirty.insert(chunk)
            chunk += 1
        }
    }

    func info(virtualSize: Int64) -> JSONValue {
        ["name": .string(name), "count": .int(count(virtualSize: virtualSize)), "granularity": .int(granularity),
         "recording": .bool(recording), "busy": .bool(busy), "persistent": .bool(persistent)]
    }
}
