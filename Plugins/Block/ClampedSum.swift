/// Byte counts of images added up: each is at most an image's size
/// (QEMU's BDRV_MAX_LENGTH, just under 2^63), so the data of a backing
/// chain, or an image's data plus what a job copies into it, can pass
/// Int64's range; a trap there would end every VM of the process. The
/// totals are bounds or progress figures, so they stop at Int64.max.
extension Int64 {
    /// `self + other`, or Int64.max (Int64.min) where that overflows.
    func clampedAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

extension Sequence where Element == Int64 {
    /// The sum, clamped as `clampedAdding`.
    var clampedSum: Int64 { reduce(0) { $0.clampedAdding($1) } }
}
