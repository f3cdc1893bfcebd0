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
    /// Dirty chunk indices, as ranges: one guest write of a whole disk is
    /// one range, not (size / granularity) entries (a 2^62-byte write at
    /// 512-byte granularity would otherwise hold the loop for hours).
    var dirty = RangeSet<Int64>()

    /// The default granularity for a node: the cluster size, clamped to
    /// [4 KiB, 64 KiB], as `bdrv_get_default_bitmap_granularity` picks it.
    static func defaultGranularity(for node: BlockNode) -> Int64 {
        min(max(node.clusterSize ?? 4096, 4096), 65536)
    }

    /// Dirty bytes inside the disk (the last chunk may be cut short).
    func count(virtualSize: Int64) -> Int64 {
        var bytes: Int64 = 0
        for r in dirty.ranges {
            let (start, end) = DirtyBitmap.byteRange(r, granularity: granularity)
            if start < virtualSize { bytes &+= min(end, virtualSize) - start }
        }
        return bytes
    }

    /// The bytes chunks `r` cover, saturated at Int64.max.
    static func byteRange(_ r: Range<Int64>, granularity: Int64) -> (start: Int64, end: Int64) {
        let start = r.lowerBound.multipliedReportingOverflow(by: granularity)
        let end = r.upperBound.multipliedReportingOverflow(by: granularity)
        return (start.overflow ? .max : start.partialValue, end.overflow ? .max : end.partialValue)
    }

    /// The chunks of this bitmap's granularity that bytes `start ..< end` touch.
    func chunks(start: Int64, end: Int64) -> Range<Int64> {
        guard end > start else { return 0..<0 }
        return (start / granularity)..<((end - 1) / granularity + 1)
    }

    mutating func mark(offset: Int64, bytes: Int64) {
        guard recording, bytes > 0 else { return }
        let (end, overflow) = offset.addingReportingOverflow(bytes)
        dirty.insert(contentsOf: chunks(start: offset, end: overflow ? .max : end))
    }

    /// Adds what `other` (of any granularity) has dirty.
    mutating func merge(_ other: DirtyBitmap) {
        for r in other.dirty.ranges {
            let (start, end) = DirtyBitmap.byteRange(r, granularity: other.granularity)
            dirty.insert(contentsOf: chunks(start: start, end: end))
        }
    }

    func info(virtualSize: Int64) -> JSONValue {
        ["name": .string(name), "count": .int(count(virtualSize: virtualSize)), "granularity": .int(granularity),
         "recording": .bool(recording), "busy": .bool(busy), "persistent": .bool(persistent)]
    }
}
