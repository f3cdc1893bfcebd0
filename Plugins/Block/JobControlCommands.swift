import QMPPluginKit
import QMPWire

/// query-block-jobs, block-job-* and job-*: lookups and verbs as job.c and
/// blockjob.c check them.
extension BlockPlugin {
    static func registerJobControl(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command("query-block-jobs") { this, _ in .success(.array(this.jobs.filter { $0.isActive && $0.kind.isBlockJob }.map(\.info))) }
        // Newest first: job.c inserts at the list head.
        plugin.command("query-jobs") { this, _ in .success(.array(this.jobs.reversed().map(\.jobInfo))) }
        plugin.command("block-job-set-speed") { this, args in
            this.blockJob(args["device"]).flatMap { job in
                if let error = job.check(.setSpeed) { return .failure(error) }
                let speed = args["speed"]?.int64Value ?? 0
                guard speed >= 0 else { return .failure(.generic("Parameter 'speed' expects a non-negative value")) }
                job.speed = speed
                return .success([:])
            }
        }
        plugin.command("block-job-cancel") { this, args in
            this.blockJob(args["device"]).flatMap { this.cancel($0, force: args["force"]?.boolValue ?? false) }
        }
        plugin.command("job-cancel") { this, args in this.anyJob(args["id"]).flatMap { this.cancel($0, force: true) } }
        for (prefix, lookup) in [("block-job-", true), ("job-", false)] {
            let find = { (this: BlockPlugin, args: JSONObject) in lookup ? this.blockJob(args["device"] ?? args["id"]) : this.anyJob(args["id"]) }
            plugin.command(prefix + "pause") { this, args in find(this, args).flatMap { this.pause($0) } }
            plugin.command(prefix + "resume") { this, args in find(this, args).flatMap { this.resume($0) } }
            plugin.command(prefix + "complete") { this, args in find(this, args).flatMap { this.complete($0) } }
            plugin.command(prefix + "finalize") { this, args in
                find(this, args).flatMap { job in
                    if let error = job.check(.finalize) { return .failure(error) }
                    this.finalize(job)
                    return .success([:])
                }
            }
            plugin.command(prefix + "dismiss") { this, args in
                find(this, args).flatMap { job in
                    if let error = job.check(.dismiss) { return .failure(error) }
                    this.dismiss(job)
                    return .success([:])
                }
            }
        }
    }

    /// find_block_job: DeviceNotActive when there is none.
    func blockJob(_ id: JSONValue?) -> Result<BlockJob, QMPError> {
        let name = id?.stringValue ?? ""
        guard let job = jobs.first(where: { $0.id == name }) else { return .failure(QMPError(.deviceNotActive, "Block job '\(name)' not found")) }
        return .success(job)
    }

    func anyJob(_ id: JSONValue?) -> Result<BlockJob, QMPError> {
        guard let job = jobs.first(where: { $0.id == id?.stringValue }) else { return .failure(.generic("Job not found")) }
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
