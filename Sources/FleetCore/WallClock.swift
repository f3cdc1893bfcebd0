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
}
