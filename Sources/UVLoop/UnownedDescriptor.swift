import CUV
#if canImport(Glibc)
import Glibc
#endif

/// A descriptor whose open file description is not the fleet's own (a
/// pipe, socket or device a client passed with `getfd` or `add-fd`), read
/// and written one non-blocking call at a time on the loop thread.
///
/// Setting `O_NONBLOCK` with `fcntl` is not enough: the description is
/// shared with the client, which can clear the flag again between our
/// check and our call, and a loop thread would then block in `write`. So
/// each call is non-blocking by itself, whatever the description says:
/// - a socket: `send`/`recv` with `MSG_DONTWAIT` (and `MSG_NOSIGNAL`);
/// - a pipe or FIFO: `splice` with `SPLICE_F_NONBLOCK` through the loop's
///   own pipe (`SplicePipe`): the kernel honours that flag per call for a
///   pipe-to-pipe splice;
/// - anything else (a tty, a character device): a description of its own,
///   opened again through `/proc/self/fd` with `O_NONBLOCK`.
///
/// Regular files and block devices are not for this type: their I/O ends
/// by itself, and it goes to the thread pool (`EventLoop.transfer`).
struct UnownedDescriptor {
    /// What the kernel says the descriptor is, as the I/O path cares.
    enum Kind: Equatable {
        /// A regular file or block device: I/O that ends on its own.
        case file
        case pipe
        case socket
        /// A tty, a device, an anonymous inode: anything else.
        case other
    }

    static func classify(_ fd: Int32) -> Result<Kind, UnownedDescriptorError> {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(UnownedDescriptorError(errno: errno)) }
        switch st.st_mode & S_IFMT {
        case S_IFREG, S_IFBLK: return .success(.file)
        case S_IFIFO: return .success(.pipe)
        case S_IFSOCK: return .success(.socket)
        default: return .success(.other)
        }
    }

    let fd: Int32
    let kind: Kind
    /// `.other` only: the description opened for us, closed by `close()`.
    private let reopened: Int32

    /// Prepares `fd` (not taken over: the caller closes it) for
    /// `direction`; fails with an errno (a device that cannot be opened again).
    init(_ fd: Int32, kind: Kind, forWriting: Bool) throws(UnownedDescriptorError) {
        self.fd = fd
        self.kind = kind
        if kind == .other {
            let access = forWriting ? O_WRONLY : O_RDONLY
            let opened = Glibc.open("/proc/self/fd/\(fd)", access | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            if opened < 0 { throw UnownedDescriptorError(errno: errno) }
            reopened = opened
        } else {
            reopened = -1
        }
    }

    /// The descriptor whose readiness to wait for.
    var pollFD: Int32 { reopened >= 0 ? reopened : fd }

    func close() {
        if reopened >= 0 { Glibc.close(reopened) }
    }

    /// Writes what the descriptor takes now: the bytes taken, or -errno
    /// (-EAGAIN when it takes nothing now).
    func write(_ base: UnsafeRawPointer, _ count: Int, through pipe: SplicePipe) -> Int {
        let n: Int
        switch kind {
        case .socket: n = send(fd, base, count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        case .pipe: return pipe.spliceOut(base, count, to: fd)
        case .other: n = Glibc.write(reopened, base, count)
        case .file: n = Glibc.write(fd, base, count)
        }
        return n < 0 ? -Int(errno) : n
    }

    /// Reads what the descriptor has now: the bytes read (0 at its end),
    /// or -errno (-EAGAIN when it has nothing now).
    func read(_ base: UnsafeMutableRawPointer, _ count: Int, through pipe: SplicePipe) -> Int {
        let n: Int
        switch kind {
        case .socket: n = recv(fd, base, count, Int32(MSG_DONTWAIT))
        case .pipe: return pipe.spliceIn(from: fd, base, count)
        case .other: n = Glibc.read(reopened, base, count)
        case .file: n = Glibc.read(fd, base, count)
        }
        return n < 0 ? -Int(errno) : n
    }
}

struct UnownedDescriptorError: Error {
    let errno: Int32
}

/// A loop's own non-blocking pipe, empty between calls, that bytes pass
/// through on their way to or from a pipe a client owns: `splice` with
/// `SPLICE_F_NONBLOCK` between two pipes never waits, and no flag of the
/// client's description is read or changed.
final class SplicePipe {
    let readEnd: Int32
    let writeEnd: Int32
    /// What one call moves at most: the pipe's default capacity.
    static let chunk = 65536

    init?() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }

    /// Bytes into our pipe, then as many as `target` takes now into it;
    /// what it did not take is read back out, so the pipe is empty again.
    func spliceOut(_ base: UnsafeRawPointer, _ count: Int, to target: Int32) -> Int {
        let put = Glibc.write(writeEnd, base, min(count, Self.chunk))
        if put <= 0 { return put < 0 ? -Int(errno) : 0 }
        let moved = cuv_splice_nonblocking(readEnd, target, put)
        let error = errno
        discard(put - max(moved, 0))
        return moved < 0 ? -Int(error) : moved
    }

    /// As many bytes as `source` has now (at most `count`) into our pipe,
    /// then out of it into `base`: the bytes read, 0 at the source's end.
    func spliceIn(from source: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
        let moved = cuv_splice_nonblocking(source, writeEnd, min(count, Self.chunk))
        if moved <= 0 { return moved < 0 ? -Int(errno) : 0 }
        var got = 0
        while got < moved {
            let n = Glibc.read(readEnd, base + got, moved - got)
            if n <= 0 { break }
            got += n
        }
        return got
    }

    private func discard(_ count: Int) {
        var left = count
        var scratch = [UInt8](repeating: 0, count: min(max(left, 1), Self.chunk))
        while left > 0 {
            let n = scratch.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, min(left, $0.count)) }
            if n <= 0 { break }
            left -= n
        }
    }
}
