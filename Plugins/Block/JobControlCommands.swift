import QMPPluginKit
import QMPWire

/// query-block-jobs, block-job-* and job-*: lookups and verbs as job.c and
/// blockjob.c check them.
extension BlockPlugin {
    static func registerJobControl(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.QueryBlockJobsCommand.self) { this, _ in .success(.array(this.jobs.filter { $0.isActive && $0.kind.isBlockJob }.map(\.info))) }
        // Newest first: job.c inserts at the list head.
        plugin.command(QAPI.QueryJobsCommand.self) { this, _ in .success(.array(this.jobs.reversed().map(\.jobInfo))) }
        plugin.command(QAPI.BlockJobSetSpeedCommand.self) { this, args in
            this.blockJob(args.device).flatMap { job in
                if let error = job.check(.setSpeed) { return .failure(error) }
                guard args.speed >= 0 else { return .failure(.generic("Parameter 'speed' expects a non-negative value")) }
                job.speed = args.speed
                return .success([:])
            }
        }
        plugin.command(QAPI.BlockJobCancelCommand.self) { this, args in
            this.blockJob(args.device).flatMap { this.cancel($0, force: args.force ?? false) }
        }
        plugin.command(QAPI.JobCancelCommand.self) { this, args in this.anyJob(args.id).flatMap { this.cancel($0, force: true) } }
        // block-job-* find a block job by its device (dismiss and finalize
        // by id), job-* any job by id.
        plugin.command(QAPI.BlockJobPauseCommand.self) { this, args in this.blockJob(args.device).flatMap(this.pause) }
        plugin.command(QAPI.JobPauseCommand.self) { this, args in this.anyJob(args.id).flatMap(this.pause) }
        plugin.command(QAPI.BlockJobResumeCommand.self) { this, args in this.blockJob(args.device).flatMap(this.resume) }
        plugin.command(QAPI.JobResumeCommand.self) { this, args in this.anyJob(args.id).flatMap(this.resume) }
        plugin.command(QAPI.BlockJobCompleteCommand.self) { this, args in this.blockJob(args.device).flatMap(this.complete) }
        plugin.command(QAPI.JobCompleteCommand.self) { this, args in this.anyJob(args.id).flatMap(this.complete) }
        plugin.command(QAPI.BlockJobFinalizeCommand.self) { this, args in this.blockJob(args.id).flatMap(this.checkedFinalize) }
        plugin.command(QAPI.JobFinalizeCommand.self) { this, args in this.anyJob(args.id).flatMap(this.checkedFinalize) }
        plugin.command(QAPI.BlockJobDismissCommand.self) { this, args in this.blockJob(args.id).flatMap(this.checkedDismiss) }
        plugin.command(QAPI.JobDismissCommand.self) { this, args in this.anyJob(args.id).flatMap(this.checkedDismiss) }
    }

    /// job-finalize's verb check, then the finalization.
    func checkedFinalize(_ job: BlockJob) -> Result<JSONValue, QMPError> {
        if let error = job.check(.finalize) { return .failure(error) }
        finalize(job)
        return .success([:])
    }

    /// job-dismiss's verb check, then the dismissal.
    func checkedDismiss(_ job: BlockJob) -> Result<JSONValue, QMPError> {
        if let error = job.check(.dismiss) { return .failure(error) }
        dismiss(job)
        return .success([:])
    }

    /// find_block_job: DeviceNotActive when there is none.
    func blockJob(_ name: String) -> Result<BlockJob, QMPError> {
        guard let job = jobs.first(where: { $0.id == name }) else { return .failure(QMPError(.deviceNotActive, "Block job '\(name)' not found")) }
        return .success(job)
    }

    func anyJob(_ id: String) -> Result<BlockJob, QMPError> {
        guard let job = jobs.first(where: { $0.id == id }) else { return .failure(.generic("Job not found")) }
        return .success(job)
    }

    func cancel(_ job: BlockJob, force: Bool) -> Result<JSONValue, QMPError> {
        if let error = job.check(.cancel) { return .failure(error) }
        if job.isReady && !force {
            // A ready mirror cancelled softly completes without switching over.
            job.pivot = false
            conclude(job, success: true)
        } else {
            conclude(job, success: false)
        }
        return .success([:])
    }

    func pause(_ job: BlockJob) -> Result<JSONValue, QMPError> {
        if let error = job.check(.pause) { return .failure(error) }
        if job.userPaused { return .failure(.generic("Job is already paused")) }
        job.userPaused = true
        setStatus(job, job.status == "ready" ? "standby" : "paused")
        return .success([:])
    }

    func resume(_ job: BlockJob) -> Result<JSONValue, QMPError> {
        if let error = job.check(.resume) { return .failure(error) }
        guard job.userPaused else { return .failure(.generic("Can't resume a job that was not paused")) }
        job.userPaused = false
        job.ioStatus = "ok"
        setStatus(job, job.status == "standby" ? "ready" : "running")
        return .success([:])
    }

    func complete(_ job: BlockJob) -> Result<JSONValue, QMPError> {
        if let error = job.check(.complete) { return .failure(error) }
        conclude(job, success: true)
        return .success([:])
    }

    /// A copy error inside a job, with its on-error policy: report ends
    /// the job with the error, stop pauses it, ignore goes on.
    func failJob(_ job: BlockJob, operation: String) -> Result<JSONValue, QMPError> {
        guard job.isActive, job.status != "pending", job.status != "waiting" else {
            return .failure(.generic("Job '\(job.id)' is not running"))
        }
        let action = job.onError == "stop" || job.onError == "enospc" ? "stop" : job.onError == "ignore" ? "ignore" : "report"
        vm.emit("BLOCK_JOB_ERROR", ["device": .string(job.id), "operation": .string(operation), "action": .string(action)])
        switch action {
        case "stop":
            job.ioStatus = "failed"
            if !job.userPaused {
                job.userPaused = true
                setStatus(job, job.status == "ready" ? "standby" : "paused")
            }
        case "report":
            job.error = "Input/output error"
            conclude(job, success: false)
        default:
            break
        }
        return .success([:])
    }
}
