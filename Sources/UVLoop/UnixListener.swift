#if canImport(Glibc)
import Glibc
#endif
import CUV

/// A listening unix stream socket on the loop thread.
///
/// Created by us (mode set before anyone can connect, a stale socket file
/// replaced, a path that is not a socket or that a live server answers on
/// refused), or adopted from an inherited descriptor (libvirt hands QEMU an
/// already-listening monitor socket). Watched through the loop's
/// `ListenerPoll`, which keeps it alive while it is open. Loop-confined.
public final class UnixListener: LoopHandle {
    public struct Options: Sendable {
        /// Mode of the socket file (connecting needs write permission on it).
        public var mode: mode_t = 0o600
        public var backlog: Int32 = 128
        /// Replace a socket file nobody listens on (left by a crashed run).
        public var replaceStale = true
        /// Where the listener reports running out of descriptors (EMFILE,
        /// ENFILE): at most one line a second, process-wide.
        public var onExhaustion: (@Sendable (String) -> Void)?
        public init() {}
    }

    /// Connections accepted per readiness callback, so a connect storm
    /// cannot starve the loop's other work.
    static let acceptsPerWakeup = 16

    /// The socket file we created; nil for an adopted descriptor.
    public let path: String?
    private let fd: Int32
    private let loop: EventLoop
    /// The loop's set this listener is watched in; nil once closed.
    private var poll: ListenerPoll?
    /// Whether the set watches it (not while accepting is paused).
    private var watched = false
    private let onAccept: (UnixConnection) -> Void
    private let onExhaustion: (@Sendable (String) -> Void)?
    /// Running while accepting is paused after an exhaustion it could not shed.
    private var pause: LoopTimer?
    /// Identity of the file we bound, so `close()` removes only our own file,
    /// never one another listener has since put at the same path.
    private var boundFile: (device: UInt, inode: UInt)?

    public init(loop: EventLoop, path: String, options: Options = .init(), onAccept: @escaping (UnixConnection) -> Void) throws {
        // Bound under a temporary name and renamed into place once it
        // listens: a client that connects as soon as the file appears (as
        // scripts waiting for it do) is never refused. Paths too long for
        // the suffix are bound in place, as QEMU binds all of them (a path
        // too long even so is refused here). Each address is made once.
        let staged = path + ".new"
        let stagedAddress = try? UnixAddress(path: staged)
        let bindPath = stagedAddress != nil ? staged : path
        var address = try stagedAddress ?? UnixAddress(path: path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UVError.errno("socket") }
        // Linux makes the file with the socket's own mode less the umask, so
        // the mode set on the descriptor before the bind is usually the
        // file's from its first instant: no chmod of the path (a lookup)
        // after it. Checked below with the lstat that takes the file's
        // identity; a umask that takes bits off gets the chmod.
        let mode = options.mode & 0o7777
        _ = fchmod(fd, mode)
        // What is at the path is looked at only when the bind or rename
        // meets it (one lstat fewer per VM for 10,000 VMs). A staged file is
        // left only by a run that ended between its bind and rename.
        var bound = address.withSockaddr({ bind(fd, $0, $1) }) == 0
        if !bound && errno == EADDRINUSE {
            if bindPath == staged {
                unlink(staged)
            } else {
                do { try Self.clearPath(path, replaceStale: options.replaceStale) } catch {
                    Glibc.close(fd)
                    throw error
                }
            }
            bound = address.withSockaddr({ bind(fd, $0, $1) }) == 0
        }
        guard bound else {
            let error = UVError.errno("bind(\(bindPath))")
            Glibc.close(fd)
            throw error
        }
        // A socket that is bound but not listening refuses every connect, so
        // setting the mode between bind and listen leaves no window in which
        // the umask's mode applies; and umask itself is process-wide, which
        // other threads creating files would feel.
        var info = stat()
        guard lstat(bindPath, &info) == 0,
              info.st_mode & 0o7777 == mode || (chmod(bindPath, mode) == 0 && lstat(bindPath, &info) == 0) else {
            let error = UVError.errno("chmod(\(bindPath))")
            Glibc.close(fd)
            unlink(bindPath)
            throw error
        }
        guard listen(fd, options.backlog) == 0 else {
            let error = UVError.errno("listen(\(bindPath))")
            Glibc.close(fd)
            unlink(bindPath)
            throw error
        }
        if bindPath != path {
            do { try Self.moveIntoPlace(bindPath, path, replaceStale: options.replaceStale) } catch {
                Glibc.close(fd)
                unlink(bindPath)
                throw error
            }
        }
        self.path = path
        self.fd = fd
        self.loop = loop
        self.onAccept = onAccept
        self.onExhaustion = options.onExhaustion
        self.boundFile = (UInt(info.st_dev), UInt(info.st_ino))
        try startWatching()
    }

    /// Adopts a descriptor that is already a listening unix stream socket;
    /// the listener owns it once this returns (not if it throws).
    public init(loop: EventLoop, adoptingListeningFD fd: Int32, onExhaustion: (@Sendable (String) -> Void)? = nil,
                onAccept: @escaping (UnixConnection) -> Void) throws {
        try Self.checkListening(fd)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.path = nil
        self.fd = fd
        self.loop = loop
        self.onAccept = onAccept
        self.onExhaustion = onExhaustion
        try startWatching()
    }

    private static func checkListening(_ fd: Int32) throws(UVError) {
        func option(_ name: Int32) throws(UVError) -> Int32 {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 else {
                throw UVError.errno("adopting fd \(fd)")
            }
            return value
        }
        guard try option(SO_DOMAIN) == AF_UNIX, try option(SO_TYPE) == Int32(SOCK_STREAM.rawValue) else {
            throw UVError(code: -ENOTSUP, operation: "adopting fd \(fd): not a unix stream socket")
        }
        guard try option(SO_ACCEPTCONN) != 0 else {
            throw UVError(code: -EINVAL, operation: "adopting fd \(fd): the socket is not listening")
        }
    }

    private func startWatching() throws {
        do {
            let poll = try loop.listenerPoll()
            try poll.add(self, fd: fd)
            self.poll = poll
            watched = true
        } catch {
            removeSocket()
            throw error
        }
    }

    /// Accepts what is waiting, at most `acceptsPerWakeup` (the set reports
    /// the listener again while more wait).
    func acceptAvailable() {
        for _ in 0..<Self.acceptsPerWakeup {
            guard poll != nil, watched else { return }
            let client = cuv_accept_nonblocking(fd)
            if client < 0 {
                if DescriptorReserve.isExhaustion(errno) { shedAfterExhaustion() }
                // EAGAIN: all taken; ECONNABORTED and the like: the next wake-up.
                return
            }
            guard let connection = try? UnixConnection(loop: loop, fd: client) else { continue }
            onAccept(connection)
        }
    }

    /// Out of descriptors: the waiting connections are accepted with the
    /// loop's spare and closed, so the socket stops being readable and the
    /// loop does not spin on it; if none could be, accepting pauses.
    private func shedAfterExhaustion() {
        let shed = loop.descriptorReserve.shed(fd)
        if let onExhaustion, let line = DescriptorReserve.report(shed: shed, on: path, nowMilliseconds: loop.nowMilliseconds) {
            onExhaustion(line)
        }
        guard shed == 0, let poll else { return }
        poll.watch(fd, false)
        watched = false
        let timer = pause ?? LoopTimer(loop: loop)
        pause = timer
        timer.start(afterMilliseconds: DescriptorReserve.pauseMilliseconds) { [weak self] in
            guard let self, let poll = self.poll, !self.watched else { return }
            poll.watch(self.fd, true)
            self.watched = true
        }
    }

    /// Stops accepting, closes the socket and removes the file we created.
    /// Idempotent.
    public func close() {
        guard let poll else { return }
        poll.remove(fd, watched: watched)
        self.poll = nil
        watched = false
        pause?.close()
        pause = nil
        removeSocket()
    }

    private func removeSocket() {
        Glibc.close(fd)
        guard let path, let bound = boundFile else { return }
        boundFile = nil
        var info = stat()
        if lstat(path, &info) == 0, UInt(info.st_dev) == bound.device, UInt(info.st_ino) == bound.inode {
            unlink(path)
        }
    }

    /// Renames the listening socket's staged file to `path`. A rename that
    /// replaces nothing needs no look at `path` first; one that meets a file
    /// (or a kernel or file system without `RENAME_NOREPLACE`) clears the
    /// path as `clearPath` says, then replaces it.
    private static func moveIntoPlace(_ staged: String, _ path: String, replaceStale: Bool) throws(UVError) {
        if cuv_rename_noreplace(staged, path) == 0 { return }
        guard errno == EEXIST || errno == ENOSYS || errno == EINVAL else {
            throw UVError.errno("rename(\(staged), \(path))")
        }
        try clearPath(path, replaceStale: replaceStale)
        guard rename(staged, path) == 0 else { throw UVError.errno("rename(\(staged), \(path))") }
    }

    /// A path may be used only when it is absent, or a socket nobody answers
    /// on and `replaceStale` allows replacing it.
    static func clearPath(_ path: String, replaceStale: Bool) throws(UVError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw UVError(code: -EEXIST, operation: "\(path) exists and is not a socket; refusing to replace it")
        }
        if try isAnswered(path) {
            throw UVError(code: -EADDRINUSE, operation: "\(path): another process is listening on it")
        }
        guard replaceStale else {
            throw UVError(code: -EEXIST, operation: "\(path) is a stale socket and replacing it is off")
        }
        guard unlink(path) == 0 || errno == ENOENT else { throw UVError.errno("unlink(\(path))") }
    }

    /// Whether a server accepts connections at `path`. The probe is
    /// non-blocking: a full backlog (EAGAIN) also means someone listens.
    private static func isAnswered(_ path: String) throws(UVError) -> Bool {
        var address = try UnixAddress(path: path)
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw UVError.errno("socket") }
        defer { Glibc.close(probe) }
        if address.withSockaddr({ Glibc.connect(probe, $0, $1) }) == 0 { return true }
        switch errno {
        case ECONNREFUSED, ENOENT: return false
        case EAGAIN, EINPROGRESS: return true
        default:
            // EACCES and the like: we cannot tell, so we must not remove it.
            throw UVError.errno("probing \(path) for a live server")
        }
    }
}
