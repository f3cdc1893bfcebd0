#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex: the project's one lock, for the few
/// values loop threads share (the VM name directory, the plugin loader,
/// the caches of what VMs of one template share).
///
/// ```swift
/// let seen = Locked<[String]>([])
/// seen.withLock { $0.append("vm-1") }   // on any thread
/// seen.withLock { $0.count }            // 1
/// ```
///
/// Not the standard library's `Mutex` (Synchronization): on Linux that is
/// a futex lock ThreadSanitizer cannot see, so every access it orders was
/// reported as a race and had to be suppressed by file, which hides a real
/// race in that file too. A pthread mutex is one ThreadSanitizer knows.
/// It lives in this module of no dependencies so that the host's modules
/// (UVLoop, QAPISchema, PluginHost, FleetCore), the plugin kit and the
/// plugins take the same one; plugins do not link libuv, so it is not
/// UVLoop's `uv_mutex_t` any more.
///
/// Hold it only for a few instructions: no loop thread may block on it for
/// long. A copy of a `Locked` is the same lock and value (it holds one
/// reference), as the class it was.
public struct Locked<Value>: @unchecked Sendable {
    @usableFromInline let storage: LockedStorage<Value>

    @inlinable
    public init(_ value: Value) {
        storage = LockedStorage.make(value)
    }

    /// `body` on the value, with the lock held.
    @inlinable
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        try storage.withLock(body)
    }
}

/// The value and its mutex in one allocation. The value is reached only
/// through the buffer's pointers, inside `withLock`: no dynamic
/// exclusivity check runs on it (the runtime's check, two calls and about
/// 120 instructions a lock, was 6 k of each VM made while the plugin
/// handles' locks had it), since the mutex is what keeps accesses apart.
@usableFromInline
final class LockedStorage<Value>: ManagedBuffer<Value, pthread_mutex_t> {
    @inlinable
    static func make(_ value: Value) -> LockedStorage<Value> {
        let storage = unsafeDowncast(create(minimumCapacity: 1) { _ in value }, to: LockedStorage<Value>.self)
        storage.withUnsafeMutablePointerToElements { mutex in
            mutex.initialize(to: pthread_mutex_t())
            // Fails only without memory, which nothing here could recover from.
            precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        }
        return storage
    }

    @inlinable
    deinit {
        withUnsafeMutablePointerToElements { mutex in
            pthread_mutex_destroy(mutex)
            mutex.deinitialize(count: 1)
        }
    }

    @inlinable
    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        try withUnsafeMutablePointers { (value, mutex) throws(Failure) -> Result in
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&value.pointee)
        }
    }
}
