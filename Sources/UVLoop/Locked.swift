import CUV

/// A value behind a libuv mutex, for the few things loops share.
///
/// Not the standard library's `Mutex`: on Linux that is a futex lock that
/// ThreadSanitizer cannot see, so every value it guards shows up as a data
/// race in the sanitizer runs. `uv_mutex_t` is a pthread mutex, which
/// ThreadSanitizer understands. Hold it only for a few instructions; no
/// loop thread may block on it for long.
public final class Locked<Value>: @unchecked Sendable {
    /// Reached only inside `withLock`, under the mutex: the lock is what
    /// keeps two accesses apart, so the runtime's dynamic exclusivity
    /// check (two calls into the runtime per lock, about 120 instructions:
    /// 6 k of each VM made, whose plugin handles are locked) is not needed.
    @exclusivity(unchecked) private var value: Value
    private let mutex: UnsafeMutablePointer<uv_mutex_t>

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        // Fails only without memory, which nothing here could recover from.
        precondition(uv_mutex_init(mutex) == 0, "uv_mutex_init failed")
    }

    deinit {
        uv_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        uv_mutex_lock(mutex)
        defer { uv_mutex_unlock(mutex) }
        return try body(&value)
    }
}
