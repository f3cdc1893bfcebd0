#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds of CLOCK_MONOTONIC, for timing commands.
///
/// The loop's own clock (`uv_now`) has millisecond steps and is cached per
/// turn, too coarse for a reply that takes 30 µs; `clock_gettime` through
/// the vDSO costs tens of nanoseconds and no system call.
package enum MonotonicClock {
    package static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(truncatingIfNeeded: now.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: now.tv_nsec)
    }
}
