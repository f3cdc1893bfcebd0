#if canImport(Glibc)
import Glibc
#endif

/// Makes the calling thread's malloc arena writable ahead of a burst of
/// small allocations, in a few steps instead of one per page.
///
/// glibc gives every thread but the main one an arena of its own, whose
/// heap is reserved inaccessible and made writable (`mprotect`) as it
/// grows, by exactly what the allocation at hand lacks: rounded to a page,
/// a page at a time. A loop thread making 5,000 VMs (half a 10,000-VM
/// config) grew its heap by about 40 MB that way, some 10,000 `mprotect`
/// calls, each taking the process's memory-map lock that the other loop's
/// page faults wait on. The main thread's arena grows with `brk` and a pad
/// instead, so loop 0 never paid this.
///
/// `grow(bytes:)` allocates that much in pieces the heap serves (each far
/// below any mmap threshold) and frees them at once: the heap is made
/// writable once per piece, and the free gives the pages back to the
/// kernel (`MADV_DONTNEED` once the free top passes the trim threshold;
/// only the pieces' headers were written) while glibc keeps the region
/// writable, so the burst that follows costs page faults only. Nothing is
/// resident afterwards that was not before. Where glibc cannot keep the
/// region writable (strict overcommit, `vm.overcommit_memory = 2`), it
/// makes the freed part inaccessible again and the reserve merely costs
/// its own calls. Call it on the thread whose arena should grow, before
/// the burst; it never blocks on anything but the allocator.
public enum ArenaReserve {
    /// One piece: below glibc's smallest mmap threshold (128 KiB, its
    /// default), so a heap serves it whatever `HeapTrimmer.keepFreedMemory`
    /// set, and small enough to round a request up by little.
    public static let pieceBytes = 64 << 10
    /// At most this much: a thread arena's heap is 64 MiB (glibc's
    /// `HEAP_MAX_SIZE` on 64-bit), and growing past one heap would start
    /// another rather than reserve more of this one.
    public static let maximumBytes = 48 << 20

    /// Grows the calling thread's arena by about `bytes` (at most
    /// `maximumBytes`), leaving it writable and nothing more resident.
    /// - Returns: the bytes reserved (0 when `bytes` is not positive or an
    ///   allocation failed part way; what was taken is freed either way).
    @discardableResult
    public static func grow(bytes: Int) -> Int {
        let count = min(max(bytes, 0), maximumBytes) / pieceBytes
        guard count > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: count) { pieces in
            var taken = 0
            while taken < count, let piece = malloc(pieceBytes) {
                pieces[taken] = piece
                taken += 1
            }
            // Freed in the order taken: each merges with the one before,
            // and the last with the heap's top, which the trim then returns.
            for index in 0..<taken { free(pieces[index]) }
            return taken == count ? taken * pieceBytes : 0
        }
    }
}
