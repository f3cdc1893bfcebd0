import CUV
#if canImport(Glibc)
import Glibc
#endif

/// Opens a relative path beneath a directory without leaving it: the
/// kernel's `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or,
/// where the kernel predates it (Linux < 5.6), a walk that opens each
/// component with `O_NOFOLLOW` from the one before.
///
/// The directory itself is configuration (trusted, symlinks followed);
/// nothing below it may be a symlink or `..`. An escape attempt is
/// `EACCES`, the policy's "Permission denied".
enum BeneathOpen {
    /// Tests set this to exercise the walk on kernels that have `openat2`.
    nonisolated(unsafe) static var forceWalk = false

    static func open(_ relative: String, in directory: String, flags: Int32, mode: mode_t) -> Result<Int32, AllowedFiles.Refusal> {
        let dirfd = Glibc.open(directory, AllowedFiles.pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { return .failure(AllowedFiles.Refusal(errno == ENOENT ? ENOENT : EACCES)) }
        defer { close(dirfd) }
        if !forceWalk {
            let fd = cuv_openat2(dirfd, relative, flags, UInt32(mode), cuv_resolve_beneath_no_links())
            if fd >= 0 { return .success(fd) }
            if errno != ENOSYS { return .failure(refusal(errno)) }
        }
        return walk(relative, from: dirfd, flags: flags, mode: mode)
    }

    /// The kernel's answer for a link or an escape (ELOOP, EXDEV) is the
    /// policy's refusal; anything else is the file's own error.
    private static func refusal(_ code: Int32) -> AllowedFiles.Refusal {
        AllowedFiles.Refusal(code == ELOOP || code == EXDEV ? EACCES : code)
    }

    private static func walk(_ relative: String, from root: Int32, flags: Int32, mode: mode_t) -> Result<Int32, AllowedFiles.Refusal> {
        let components = relative.split(separator: "/").map(String.init)
        guard let last = components.last, !components.contains(".."), !components.contains(".") else {
            return .failure(AllowedFiles.Refusal(EACCES))
        }
        var current = root
        var owned: Int32 = -1
        defer { if owned >= 0 { close(owned) } }
        for component in components.dropLast() {
            let next = openat(current, component, AllowedFiles.pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            // ENOTDIR here is a symlink met with O_NOFOLLOW|O_DIRECTORY.
            guard next >= 0 else { return .failure(refusal(errno == ENOTDIR ? ELOOP : errno)) }
            if owned >= 0 { close(owned) }
            owned = next
            current = next
        }
        let fd = openat(current, last, flags | O_NOFOLLOW, mode)
        guard fd >= 0 else { return .failure(refusal(errno)) }
        return .success(fd)
    }
}
