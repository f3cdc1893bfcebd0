#if canImport(Glibc)
import Glibc
#endif
import UVLoop

/// Runs a test's loop with a deadline, so that no test can hang.
enum LoopHarness {
    /// Longest any test's loop may run.
    static let deadlineMilliseconds: UInt64 = 5000

    /// Runs `loop` until it stops; returns false if the deadline stopped it.
    @discardableResult
    static func run(_ loop: EventLoop, deadline: UInt64 = deadlineMilliseconds) -> Bool {
        var timedOut = false
        let guardTimer = LoopTimer(loop: loop)
        guardTimer.start(afterMilliseconds: deadline) {
            timedOut = true
            loop.stop()
        }
        loop.run()
        guardTimer.close()
        return !timedOut
    }

    /// A short socket path of its own for each test (sun_path holds 108 bytes).
    static func socketPath(_ tag: String) -> String {
        let path = "/tmp/uvt-\(getpid())-\(tag)"
        unlink(path)
        return path
    }

    /// Mode bits of `path`, or nil if it does not exist.
    static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `fd` is an open descriptor.
    static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) >= 0 }

    /// The file `fd` refers to (device and inode), or nil when it is closed.
    static func identity(_ fd: Int32) -> [UInt64]? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }

    /// `fd` no longer refers to the file it did (`identity` then): closed,
    /// or its number reused meanwhile by a test running in parallel.
    static func isClosed(_ fd: Int32, wasIdentity identity: [UInt64]?) -> Bool {
        let now = Self.identity(fd)
        return now == nil || now != identity
    }
}
