import UVLoop
import QMPWire
import SharedValues
#if canImport(Glibc)
import Glibc
#endif

/// Files a client names (`screendump`, `pmemsave`, dumps, chardevs,
/// images): "fd:NAME", "/dev/fdset/N", and plain paths as the fleet's
/// `AllowedFiles` policy permits (beneath an allowed directory, no
/// symlinks, regular files, `O_NONBLOCK`).
///
/// `O_NONBLOCK` keeps a FIFO from waiting, but the kernel does not apply it
/// to the lookup and open of a file on FUSE or NFS: a mount whose server
/// hangs would hold the loop, and every VM on it, for as long as the open
/// waits (measured: 1,005 ms of a bystander's `query-status` for a FUSE
/// open of 1 s). So a command opens a plain path with `openFile(_:flags:mode:then:)`,
/// which runs the policy on the pool.
extension VM {
    /// Opens `path` now, on the calling (loop) thread. Only for names that
    /// touch no path ("fd:", "/dev/fdset/") or for callers off the loop;
    /// a command on the loop uses `openFile(_:flags:mode:then:)`.
    public func openFile(_ path: String, flags: Int32, mode: mode_t) -> Result<Int32, QMPError> {
        if let descriptor = openDescriptor(path, flags: flags) { return descriptor }
        return Self.openPlain(path, flags: flags, mode: mode, policy: owner.allowedFiles)
    }

    /// Opens `path` without blocking the loop: a plain path on the pool
    /// (within the VM's `PoolShare`), then `completion` on the loop; "fd:"
    /// and "/dev/fdset/" names at once, before this returns, except an fd
    /// set's descriptor the open truncates (`O_TRUNC`): its `ftruncate`
    /// runs on the pool too, as it waits on a file of a hung FUSE or NFS
    /// mount the client opened. When the VM ended meanwhile the
    /// descriptor is closed and `completion` gets QEMU's "shutting down"
    /// failure, so a caller answers exactly once. Without a loop
    /// (in-process fleets) it all runs now.
    public func openFile(_ path: String, flags: Int32, mode: mode_t, then completion: @escaping (Result<Int32, QMPError>) -> Void) {
        if path.hasPrefix("/dev/fdset/"), FDSets.truncates(flags) {
            return openTruncatedSetDescriptor(path, flags: flags, then: completion)
        }
        if let descriptor = openDescriptor(path, flags: flags) { return completion(descriptor) }
        let policy = owner.allowedFiles
        offloadOpen(path, { Self.openPlain(path, flags: flags, mode: mode, policy: policy) }, then: completion)
    }

    /// An fd set's descriptor for an open that truncates: picked on the
    /// loop (QEMU's errors for no set or no fd of that mode at once), then
    /// truncated on the pool.
    private func openTruncatedSetDescriptor(_ path: String, flags: Int32,
                                            then completion: @escaping (Result<Int32, QMPError>) -> Void) {
        let dup: Int32
        switch openDescriptor(path, flags: flags, truncating: false) {
        case .success(let fd)?: dup = fd
        case let other?: return completion(other)
        case nil: return completion(.failure(.generic("Could not open '\(path)'")))
        }
        offloadOpen(path, {
            guard let refusal = FDSets.truncate(dup, for: flags) else { return .success(dup) }
            close(dup)
            return .failure(.generic("Could not open '\(path)': \(refusal.reason)"))
        }, then: completion)
    }

    /// Runs `open` on the pool, then `completion` on the loop with what it
    /// gave, or QEMU's "shutting down" failure (the descriptor closed)
    /// when the VM ended meanwhile.
    private func offloadOpen(_ path: String, _ open: @escaping @Sendable () -> Result<Int32, QMPError>,
                             then completion: @escaping (Result<Int32, QMPError>) -> Void) {
        let outcome = Locked<Result<Int32, QMPError>>(.failure(.generic("Could not open '\(path)'")))
        offload({
            let result = open()
            outcome.withLock { $0 = result }
        }, then: { [weak self] in
            let result = outcome.withLock { $0 }
            guard let self, !self.isDestroyed else {
                if case .success(let fd) = result { close(fd) }
                return completion(.failure(.generic("The VM is shutting down")))
            }
            completion(result)
        })
    }

    /// "fd:NAME" (a getfd descriptor, which moves to the caller, as
    /// QEMU's `monitor_get_fd`) and "/dev/fdset/N" (a dup, as `qemu_open`);
    /// nil for a plain path.
    private func openDescriptor(_ path: String, flags: Int32, truncating: Bool = true) -> Result<Int32, QMPError>? {
        if path.hasPrefix("fd:") {
            let name = String(path.dropFirst("fd:".count))
            guard let fd = fdSets.takeNamed(name) else {
                return .failure(.generic("File descriptor named '\(name)' has not been found"))
            }
            return .success(fd)
        }
        if path.hasPrefix("/dev/fdset/") {
            guard let id = Int64(path.dropFirst("/dev/fdset/".count)) else {
                return .failure(.generic("Could not parse fdset \(path.dropFirst("/dev/fdset/".count))"))
            }
            switch fdSets.dupFromSet(id, flags: flags, truncating: truncating) {
            case .failure(let refusal): return .failure(.generic("Could not open '\(path)': \(refusal.reason)"))
            case .success(let fd): return .success(fd)
            }
        }
        return nil
    }

    /// The policy's open of a plain path, with QEMU's "Could not open" text.
    private static func openPlain(_ path: String, flags: Int32, mode: mode_t, policy: AllowedFiles) -> Result<Int32, QMPError> {
        switch policy.open(path, flags: flags, mode: mode) {
        case .failure(let refusal): return .failure(.generic("Could not open '\(path)': \(refusal.reason)"))
        case .success(let fd): return .success(fd)
        }
    }
}
