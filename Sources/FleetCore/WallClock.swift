import QMPServer
#if canImport(Glibc)
import Glibc
#endif

/// Event timestamps: wall-clock Unix time, as QEMU's `qemu_clock_get_us(QEMU_CLOCK_REALTIME)`
/// gives it, split into the `seconds` and `microseconds` members.
public enum WallClock {
    public static func now() -> (seconds: Int64, microseconds: Int64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec / 1000))
    }

    /// Unix time in seconds of a CLOCK_MONOTONIC reading (`MonotonicClock`)
    /// taken earlier: now, less the monotonic time since. A later step of the
    /// wall clock moves it with it, which the page's history does not mind.
    static func seconds(atMonotonic reading: UInt64) -> Double {
        let (seconds, microseconds) = now()
        let since = MonotonicClock.nanoseconds() &- reading
        return Double(seconds) + Double(microseconds) / 1e6 - Double(Int64(bitPattern: since)) / 1e9
    }
}
