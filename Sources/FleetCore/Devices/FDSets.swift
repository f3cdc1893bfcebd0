import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// File descriptors clients passed to a VM with SCM_RIGHTS: named ones
/// (`getfd`/`closefd`) and fd sets (`add-fd`/`remove-fd`/`query-fdsets`), as
/// QEMU's monitor/fds.c keeps them. They belong to the VM, not to the client
/// that passed them, and are closed when released or when the VM ends.
public final class FDSets {
    /// One fd in a set, with the client's opaque string.
    public struct Entry {
        public var fd: Int32
        public var opaque: String?
    }

    public private(set) var named: [String: Int32] = [:]
    /// Fd sets by id, in creation order.
    public private(set) var sets: [(id: Int64, fds: [Entry])] = []

    public init() {}

    /// Descriptors held now, named and in sets together: what `fds-per-vm` bounds.
    public private(set) var count = 0

    /// Whether storing one more fd (under `name` for `getfd`, which replaces
    /// the fd already named so) stays within `limit`.
    public func hasRoom(limit: Int, replacingNamed name: String? = nil) -> Bool {
        if let name, named[name] != nil { return true }
        return count < limit
    }

    /// `getfd`: stores `fd` under `name`, closing any fd it replaces.
    public func setNamed(_ name: String, fd: Int32) {
        if let old = named[name] { Glibc.close(old) } else { count += 1 }
        named[name] = fd
    }

    /// `closefd`.
    public func closeNamed(_ name: String) -> Bool {
        guard let fd = named.removeValue(forKey: name) else { return false }
        count -= 1
        Glibc.close(fd)
        return true
    }

    /// Takes a named fd out (ownership moves to the caller), as QEMU's
    /// `monitor_get_fd` does for "fd:NAME".
    public func takeNamed(_ name: String) -> Int32? {
        guard let fd = named.removeValue(forKey: name) else { return nil }
        count -= 1
        return fd
    }

    /// `add-fd`: adds to set `id` (or a new set with the lowest free id).
    /// Returns the set id and the fd number as the client will see it.
    public func add(fd: Int32, toSet id: Int64?, opaque: String?) -> (setID: Int64, fd: Int32) {
        let setID = id ?? nextFreeSetID()
        let entry = Entry(fd: fd, opaque: opaque)
        count += 1
        if let i = sets.firstIndex(where: { $0.id == setID }) {
            sets[i].fds.append(entry)
        } else {
            sets.append((id: setID, fds: [entry]))
            sets.sort { $0.id < $1.id }
        }
        return (setID, fd)
    }

    private func nextFreeSetID() -> Int64 {
        var candidate: Int64 = 0
        for set in sets where set.id == candidate { candidate += 1 }
        while sets.contains(where: { $0.id == candidate }) { candidate += 1 }
        return candidate
    }

    /// `remove-fd`: one fd of a set, or the whole set. False when not found.
    public func remove(setID: Int64, fd: Int64?) -> Bool {
        guard let i = sets.firstIndex(where: { $0.id == setID }) else { return false }
        if let fd {
            guard let j = sets[i].fds.firstIndex(where: { Int64($0.fd) == fd }) else { return false }
            Glibc.close(sets[i].fds[j].fd)
            sets[i].fds.remove(at: j)
            count -= 1
            if sets[i].fds.isEmpty { sets.remove(at: i) }
        } else {
            for entry in sets[i].fds { Glibc.close(entry.fd) }
            count -= sets[i].fds.count
            sets.remove(at: i)
        }
        return true
    }

    /// A dup of some fd of set `id` whose access mode fits `flags`, as QEMU's
    /// `monitor_fdset_dup_fd_add` picks one, or the errno QEMU's open fails
    /// with: ENOENT for no such set, EACCES for no fd of that mode, and
    /// what `qemu_dup_flags` gets truncating it when `flags` would truncate
    /// (`O_TRUNC`, or `O_CREAT|O_EXCL`): EINVAL for a pipe or socket, so
    /// `screendump` of a pipe in an fd set is QEMU's "Invalid argument".
    /// With `truncating` false the dup is not truncated here: the caller
    /// truncates it off the loop (`truncates(_:)` says whether it must),
    /// as `ftruncate` of a file on a hung FUSE or NFS mount waits with it.
    public func dupFromSet(_ id: Int64, flags: Int32, truncating: Bool = true) -> Result<Int32, FDSetRefusal> {
        guard let set = sets.first(where: { $0.id == id }) else { return .failure(FDSetRefusal(errno: ENOENT)) }
        let wanted = flags & O_ACCMODE
        for entry in set.fds {
            let mode = fcntl(entry.fd, F_GETFL) & O_ACCMODE
            // Exactly the mode asked for, as QEMU 7.2 (a read-write fd
            // does not serve a write-only open: EACCES).
            guard mode == wanted else { continue }
            let dup = fcntl(entry.fd, F_DUPFD_CLOEXEC, 0)
            guard dup >= 0 else { return .failure(FDSetRefusal(errno: errno)) }
            if truncating, let refusal = Self.truncate(dup, for: flags) {
                Glibc.close(dup)
                return .failure(refusal)
            }
            return .success(dup)
        }
        return .failure(FDSetRefusal(errno: EACCES))
    }

    /// Whether an open with `flags` truncates what an fd set gives, as
    /// QEMU 7.2's `qemu_dup_flags` does (`O_TRUNC`, or `O_CREAT|O_EXCL`).
    public static func truncates(_ flags: Int32) -> Bool {
        flags & O_TRUNC != 0 || flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL
    }

    /// Truncates a dup as an open with `flags` would: nil when done or not
    /// needed, else the errno QEMU's open fails with (EINVAL for a pipe).
    /// A blocking call on a file of a slow mount: the caller's thread waits.
    public static func truncate(_ fd: Int32, for flags: Int32) -> FDSetRefusal? {
        guard truncates(flags) else { return nil }
        return ftruncate(fd, 0) == 0 ? nil : FDSetRefusal(errno: errno)
    }

    /// Closes everything (the VM ends).
    public func closeAll() {
        for fd in named.values { Glibc.close(fd) }
        named.removeAll()
        for set in sets { for entry in set.fds { Glibc.close(entry.fd) } }
        sets.removeAll()
        count = 0
    }
}

/// Why no descriptor came from an fd set: the errno QEMU's open reports.
public struct FDSetRefusal: Error, Sendable {
    public let errno: Int32
    public var reason: String { String(cString: strerror(errno)) }
}
