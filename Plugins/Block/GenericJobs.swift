import Glibc
import QMPPluginKit
import QMPWire

/// Jobs that are not block jobs: `blockdev-create`, `x-blockdev-amend`,
/// `snapshot-save`, `snapshot-load`, `snapshot-delete`. As in QEMU 7.2
/// they are created and running when the command returns, finish in the
/// next loop turn (waiting, pending, concluded; or aborting, concluded
/// with the job's error), and stay concluded until `job-dismiss`.
extension BlockPlugin {
    static func registerGenericJobs(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.BlockdevCreateCommand.self) { this, args in
            this.startGenericJob(args.jobId, kind: .create, finishing: { done in this.createImage(args.options, done: done) })
        }
        plugin.command(QAPI.XBlockdevAmendCommand.self) { this, args in
            if case .failure(let error) = this.graph.lookup(device: nil, node: args.nodeName) {
                return .failure(error)
            }
            return this.startGenericJob(args.jobId, kind: .amend) { nil }
        }
        plugin.command(QAPI.SnapshotSaveCommand.self) { this, args in
            this.startGenericJob(args.jobId, kind: .snapshotSave) {
                // bdrv_all_can_snapshot: every writable device must take internal snapshots.
                for name in args.devices {
                    if let node = this.graph.node(name), !node.readOnly, node.driver != "qcow2" {
                        return "Device '\(name)' is writable but does not support snapshots"
                    }
                }
                return this.eachSnapshotDevice(args.devices, tag: args.tag) { node, tag in
                    this.internalSnapshot(QAPI.BlockdevSnapshotInternal(device: node, name: tag))
                }
            }
        }
        plugin.command(QAPI.SnapshotDeleteCommand.self) { this, args in
            this.startGenericJob(args.jobId, kind: .snapshotDelete) { this.eachSnapshotDevice(args.devices, tag: args.tag) { node, tag in
                this.deleteInternalSnapshot(QAPI.BlockdevSnapshotDeleteInternalSyncCommand(device: node, name: tag))
            } }
        }
        plugin.command(QAPI.SnapshotLoadCommand.self) { this, args in
            this.startGenericJob(args.jobId, kind: .snapshotLoad) { this.eachSnapshotDevice(args.devices, tag: args.tag) { node, tag in
                guard this.graph.node(node)?.snapshots.contains(where: { $0.name == tag }) == true else {
                    return .failure(.generic("Snapshot '\(tag)' does not exist in one or more devices"))
                }
                return .success(.object([:]))
            } }
        }
    }

    /// Creates the job; `work` runs in the next turn and returns the job's error, if any.
    func startGenericJob(_ id: String, kind: BlockJob.Kind, _ work: @escaping () -> String?) -> Result<JSONValue, QMPError> {
        startGenericJob(id, kind: kind, finishing: { done in done(work()) })
    }

    /// Creates the job; `work` starts in the next turn and calls its
    /// completion, maybe later (file I/O off the loop), with the job's
    /// error, if any. A job cancelled meanwhile is not concluded again.
    func startGenericJob(_ id: String, kind: BlockJob.Kind,
                         finishing work: @escaping (_ done: @escaping (String?) -> Void) -> Void) -> Result<JSONValue, QMPError> {
        guard QEMUIdentifier.isWellFormed(id) else { return .failure(.generic("Invalid job ID '\(id)'")) }
        if jobs.contains(where: { $0.id == id }) { return .failure(.generic("Job ID '\(id)' already in use")) }
        if let refusal = refusalOfNewJob { return .failure(refusal) }
        let job = BlockJob(id: id, kind: kind, len: 1, speed: 0, options: JobStartOptions(autoDismiss: false),
                           waitsForCompletion: false, nodes: [])
        jobs.append(job)
        setStatus(job, "created")
        setStatus(job, "running")
        job.timer = vm.startTimer(afterMilliseconds: 0) { [weak self, weak job] in
            guard let self, let job, job.status == "running" else { return }
            job.timer = nil
            work { [weak self, weak job] error in
                guard let self, let job, job.status == "running" else { return }
                job.offset = job.len
                if let error {
                    job.error = error
                    self.setStatus(job, "aborting")
                } else {
                    self.setStatus(job, "waiting")
                    self.setStatus(job, "pending")
                }
                self.setStatus(job, "concluded")
            }
        }
        return .success(.object([:]))
    }

    /// Runs `body` on each of `devices` (node names) in turn; the first
    /// error is the job's. A name that is no node fails as QEMU's
    /// bdrv_all_get_snapshot_devices does.
    func eachSnapshotDevice(_ devices: [String], tag: String, _ body: (String, String) -> Result<JSONValue, QMPError>) -> String? {
        for name in devices where graph.node(name) == nil { return "No block device node '\(name)'" }
        for name in devices {
            if case .failure(let error) = body(name, tag) { return error.desc }
        }
        return nil
    }

    /// blockdev-create of a `file` image: the file, `size` bytes long
    /// (sparse), opened and sized on host workers (`ftruncate` may take the
    /// disk's time, an open on a hung mount as long; a loop serves other VMs). Other drivers format a node the
    /// graph already has, which changes nothing the simulated graph reports.
    func createImage(_ options: QAPI.BlockdevCreateOptions, done: @escaping (String?) -> Void) {
        guard case .file(let file) = options.variant else { return done(nil) }
        let path = file.filename
        let size = file.size
        // The job runs after the command's reply: no request to tie the open to.
        vm.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644, for: nil) { [vm] opened in
            switch opened {
            case .failure(let error): done("Could not create '\(path)': \(OpenFailure.reason(error.desc))")
            case .success(let fd):
                let failure = ResizeOutcome()
                vm.offload({
                    if size < 0 {
                        failure.errno = EINVAL
                    } else if ftruncate(fd, off_t(size)) != 0 {
                        failure.errno = errno
                    }
                    close(fd)
                }, then: {
                    done(failure.errno == 0 ? nil : "Could not resize file: \(String(cString: strerror(failure.errno)))")
                })
            }
        }
    }
}

/// What the worker's ftruncate got; read on the loop in the completion
/// the host orders after the work.
private final class ResizeOutcome: @unchecked Sendable {
    var errno: Int32 = 0
}
