#if canImport(Glibc)
import Glibc
#endif

/// Which way bytes move between a buffer and a descriptor.
public enum TransferDirection: Sendable {
    case read, write
}

/// A descriptor transfer done by blocking calls on the calling thread: a
/// regular file's on libuv's pool (UVLoop's `DescriptorTransfer`), a
/// plugin's on a worker when its host has no `fd_transfer` (QMPPluginKit),
/// or in place where there is no loop (in-process fleets). Its own module
/// because both need it and a plugin does not link libuv.
public enum BlockingTransfer {
    /// Moves `buffer` to or from `fd`: all of a write, a read up to the
    /// buffer's size or the file's end; or -errno.
    ///
    /// A write that moves nothing ends with -EAGAIN: looping on it would
    /// hold the thread for ever (QEMU's `qemu_write_full` does loop), and
    /// stopping with a short count would report a write that did not
    /// happen as done. -EAGAIN is what the loop's own transfer answers for
    /// a peer that takes nothing (after `fd-stall-ms`).
    public static func run(_ direction: TransferDirection, fd: Int32, buffer: UnsafeMutableRawBufferPointer) -> Int {
        var done = 0
        while done < buffer.count {
            let n = direction == .write
                ? Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                : Glibc.read(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return -Int(errno)
            }
            if n == 0 { return direction == .write ? -Int(EAGAIN) : done }
            done += n
        }
        return done
    }
}
