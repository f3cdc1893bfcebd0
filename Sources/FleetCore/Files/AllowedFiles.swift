import CUV
#if canImport(Glibc)
import Glibc
#endif

/// The one owner of the fleet's file policy: which host paths a client may
/// name (`screendump`, `pmemsave`, dumps, file chardevs, secrets, images)
/// and how they are opened.
///
/// QEMU opens whatever path its monitor is given, with the process's
/// rights; a fleet hosts many tenants in one process, so a plain path is
/// opened only *beneath* an allowed directory: resolved by the kernel with
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (or an `O_NOFOLLOW`
/// walk where the kernel lacks it), so neither `..` nor a symlink planted
/// in `/tmp` leads out. Every open is `O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC`
/// (a FIFO never stalls a loop thread), files are created 0600 at most, and
/// what was opened must be a regular file: QEMU would block on a FIFO or
/// device, which one loop serving many VMs cannot.
///
/// Files named on a trusted command line (the emulator's, written by the
/// program that started it, as QEMU trusts its own) are readable where they are.
public struct AllowedFiles: Sendable {
    /// Directories beneath which plain paths are opened (no trailing '/').
    public let directories: [String]
    /// Directories nothing is opened in, even beneath an allowed one (the
    /// socket directory), also when reached through a symlink.
    public let excluded: [String]
    /// Absolute paths that may be opened read-only wherever they are.
    public let trustedFiles: Set<String>

    public init(directories: [String], excluded: [String] = [], trustedFiles: Set<String> = []) {
        self.directories = directories.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.excluded = excluded
        self.trustedFiles = trustedFiles
    }

    /// An open refused: the errno whose text QEMU's messages carry.
    public struct Refusal: Error, Equatable, Sendable {
        public let errno: Int32
        public init(_ errno: Int32) { self.errno = errno }
        /// `strerror`: "Permission denied" for a path the policy refuses.
        public var reason: String { String(cString: strerror(errno)) }
    }

    /// `O_PATH`, which Glibc's module does not export: a probe that opens
    /// nothing (a socket path's directory check).
    public static let pathOnly: Int32 = 0o10000000

    /// True when `path` lies beneath an allowed directory (lexically; the
    /// kernel checks the rest when it is opened).
    public func isBeneathAllowedDirectory(_ path: String) -> Bool { split(path) != nil && !isExcluded(path) }

    private func isExcluded(_ path: String) -> Bool {
        excluded.contains { SocketDirectory.isBeneath(path, directory: $0) }
    }

    /// Opens `path` under the policy. `mode` applies when `O_CREAT` creates
    /// the file; it is narrowed to 0600 at most.
    public func open(_ path: String, flags: Int32, mode: mode_t) -> Result<Int32, Refusal> {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(".."), !isExcluded(path) else { return .failure(Refusal(EACCES)) }
        let probe = flags & Self.pathOnly != 0
        let wanted = probe ? flags | O_NOFOLLOW | O_CLOEXEC : flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC
        let createMode = mode & 0o600
        let fd: Int32
        if let (directory, rest) = split(path) {
            switch BeneathOpen.open(rest, in: directory, flags: wanted, mode: createMode) {
            case .success(let opened): fd = opened
            case .failure(let refusal): return .failure(refusal)
            }
        } else if Self.harmlessDevices[path] != nil {
            fd = Glibc.open(path, wanted & ~O_CREAT, 0)
            if fd < 0 { return .failure(Refusal(errno)) }
            guard Self.isHarmlessDevice(fd, path) else {
                Glibc.close(fd)
                return .failure(Refusal(EACCES))
            }
            return .success(fd)
        } else if trustedFiles.contains(path), flags & O_ACCMODE == O_RDONLY, flags & O_CREAT == 0 {
            // As QEMU opens it: symlinks followed (libvirt may link its files).
            fd = Glibc.open(path, (wanted & ~O_NOFOLLOW), 0)
            if fd < 0 { return .failure(Refusal(errno)) }
        } else {
            return .failure(Refusal(EACCES))
        }
        if let refusal = Self.typeRefusal(fd, probe: probe) {
            Glibc.close(fd)
            return .failure(refusal)
        }
        return .success(fd)
    }

    /// The devices any client may name, wherever the allowed directories
    /// are, with their device numbers (Linux's `makedev(1, N)`): writes to
    /// /dev/null vanish and its reads end, the random devices give random
    /// bytes, so none gives a tenant anything of the host. Clients name
    /// them where QEMU takes a device (a `serial` chardev on /dev/null, an
    /// `rng-random` object's default /dev/urandom); any other device stays
    /// refused.
    static let harmlessDevices: [String: dev_t] = ["/dev/null": 0x103, "/dev/random": 0x108, "/dev/urandom": 0x109]

    /// True when `fd` is the character device `path` names in
    /// `harmlessDevices`, not something else mounted or bound there.
    static func isHarmlessDevice(_ fd: Int32, _ path: String) -> Bool {
        var st = stat()
        guard let number = harmlessDevices[path] else { return false }
        return fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == number
    }

    /// The allowed directory `path` lies in (the deepest one) and the
    /// path relative to it; nil when it lies in none.
    func split(_ path: String) -> (directory: String, rest: String)? {
        var best: (String, String)?
        for directory in directories where directory.hasPrefix("/") {
            let prefix = directory == "/" ? "/" : directory + "/"
            guard path.hasPrefix(prefix), path.count > prefix.count else { continue }
            if let current = best, current.0.count >= directory.count { continue }
            best = (directory, String(path.dropFirst(prefix.count)))
        }
        return best
    }

    /// A regular file is what the devices read and write; a directory is
    /// EISDIR, a symlink (an `O_PATH` probe's last component) is refused,
    /// and anything else (FIFO, device, socket) is ENXIO, as `open` with
    /// `O_NONBLOCK` answers for a FIFO nobody reads.
    static func typeRefusal(_ fd: Int32, probe: Bool) -> Refusal? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return Refusal(errno) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return Refusal(EACCES)
        case S_IFDIR: return probe ? nil : Refusal(EISDIR)
        default: return probe ? nil : Refusal(ENXIO)
        }
    }
}
