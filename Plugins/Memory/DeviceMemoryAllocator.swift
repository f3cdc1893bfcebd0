import QMPWire

/// Places a memory device in the hot-plug window, as QEMU's
/// `memory_device_check_addable` and `memory_device_get_free_addr` do:
/// the total stays under maxmem - RAM, and the address is the first
/// aligned gap (or the client's `addr`, if it is aligned, inside the
/// window and free).
struct DeviceMemoryAllocator {
    let window: Range<UInt64>
    /// maxmem - RAM: what all memory devices together may use.
    let capacity: UInt64
    let devices: [DIMM]

    func checkAddable(size: UInt64) -> QMPError? {
        let used = devices.reduce(UInt64(0)) { $0 + $1.size }
        let (total, overflow) = used.addingReportingOverflow(size)
        if overflow || total > capacity {
            return .generic("not enough space, currently \(hex(used)) in use of total space for memory devices \(hex(capacity))")
        }
        return nil
    }

    func address(size: UInt64, alignment: UInt64, hint: UInt64?) -> Result<UInt64, QMPError> {
        if window.lowerBound % alignment != 0 {
            return .failure(.generic("the alignment (\(hex(alignment))) exceeds the expected maximum alignment (\(hex(window.lowerBound & ~(window.lowerBound - 1))))"))
        }
        if size % alignment != 0 {
            return .failure(.generic("backend memory size must be multiple of \(hex(alignment))"))
        }
        var start: UInt64
        if let hint {
            if hint % alignment != 0 { return .failure(.generic("address must be aligned to \(hex(alignment)) bytes")) }
            let (end, overflow) = hint.addingReportingOverflow(size)
            if overflow || hint < window.lowerBound || end > window.upperBound {
                return .failure(.generic("can't add memory device [\(hex(hint)):\(hex(size))], usable range for memory devices [\(hex(window.lowerBound)):\(hex(window.upperBound - window.lowerBound))]"))
            }
            start = hint
        } else {
            start = alignUp(window.lowerBound, alignment)
            if !fits(start, size) { return .failure(.generic("can't add memory device, device too big")) }
        }
        for device in devices.sorted(by: { $0.addr < $1.addr }) {
            guard fits(start, size) else { break }
            let candidate = start..<(start + size)
            if device.range.overlaps(candidate) {
                if hint != nil { return .failure(.generic("address range conflicts with memory device id='\(device.id ?? "")'")) }
                start = alignUp(device.range.upperBound, alignment)
            } else if device.addr >= candidate.upperBound {
                break
            }
        }
        guard fits(start, size) else {
            return .failure(.generic("could not find position in guest address space for memory device - memory fragmented due to alignments"))
        }
        return .success(start)
    }

    /// Whether `size` bytes at `start` end inside the window; `align` and
    /// `size` are client integers up to 2^64-1, so the end is checked.
    private func fits(_ start: UInt64, _ size: UInt64) -> Bool {
        let (end, overflow) = start.addingReportingOverflow(size)
        return !overflow && end <= window.upperBound
    }
}
