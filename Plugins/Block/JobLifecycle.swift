import QMPPluginKit
import QMPWire

/// How jobs run: created and running at once, progress on a timer at their
/// speed (the config's rate when 0), ready or done when the copy ends, then
/// waiting, pending, concluded and null, with JOB_STATUS_CHANGE at each
/// step as QEMU 7.2 sends it.
extension BlockPlugin {
    /// Starts `job`, or holds it back until the transaction it belongs to commits.
    func start(_ job: BlockJob) {
        jobs.append(job)
        if deferredJobStarts != nil { deferredJobStarts?.append(job); return }
        run(job)
    }

    func run(_ job: BlockJob) {
        setStatus(job, "created")
        setStatus(job, "running")
        job.timer = vm.startTimer(afterMilliseconds: config.tickMilliseconds, repeatEvery: config.tickMilliseconds) { [weak self, weak job] in
            guard let self, let job else { return }
            self.tick(job)
        }
        tick(job, elapsed: 0)
    }

    func setStatus(_ job: BlockJob, _ status: String) {
        job.status = status
        vm.emit("JOB_STATUS_CHANGE", ["id": .string(job.id), "status": .string(status)])
    }

    /// One step of copying.
    func tick(_ job: BlockJob, elapsed: UInt64? = nil) {
        guard job.status == "running" else { return }
        let rate = job.speed > 0 ? job.speed : config.jobRate
        // Bytes per millisecond times elapsed ms, keeping the remainder so
        // a rate that is not a multiple of 1000 loses nothing over time.
        let step = rate.multipliedReportingOverflow(by: Int64(elapsed ?? config.tickMilliseconds))
        if step.overflow {
            job.offset = job.len
        } else {
            let total = step.partialValue.addingReportingOverflow(job.progressCarry)
            job.progressCarry = total.overflow ? 0 : total.partialValue % 1000
            // A disk resized to near 2^63 and a speed of 2^62: the sum may overflow.
            let advanced = job.offset.addingReportingOverflow(total.overflow ? 0 : total.partialValue / 1000)
            job.offset = total.overflow || advanced.overflow ? job.len : min(job.len, advanced.partialValue)
        }
        guard job.offset >= job.len else { return }
        if job.waitsForCompletion {
            setStatus(job, "ready")
            vm.emit("BLOCK_JOB_READY", job.eventData)
        } else {
            conclude(job, success: true)
        }
    }

    /// The job stopped copying: success goes through waiting and pending,
    /// failure through aborting.
    func conclude(_ job: BlockJob, success: Bool) {
        stopTimer(job)
        if success {
            setStatus(job, "waiting")
            setStatus(job, "pending")
            if job.autoFinalize { finalize(job) } else { vm.emit("BLOCK_JOB_PENDING", ["type": .string(job.kind.rawValue), "id": .string(job.id)]) }
        } else {
            setStatus(job, "aborting")
            job.abort(&graph)
            releaseBitmaps(of: job)
            if job.error != nil {
                var data = job.eventData
                data["error"] = .string(job.error ?? "")
                vm.emit("BLOCK_JOB_COMPLETED", data)
            } else {
                vm.emit("BLOCK_JOB_CANCELLED", job.eventData)
            }
            setStatus(job, "concluded")
            if job.autoDismiss { dismiss(job) }
        }
    }

    func finalize(_ job: BlockJob) {
        job.finish(&graph, job.pivot)
        releaseBitmaps(of: job)
        vm.emit("BLOCK_JOB_COMPLETED", job.eventData)
        setStatus(job, "concluded")
        if job.autoDismiss { dismiss(job) }
    }

    func dismiss(_ job: BlockJob) {
        setStatus(job, "null")
        jobs.removeAll { $0 === job }
    }

    func stopTimer(_ job: BlockJob) {
        if let timer = job.timer { vm.cancelTimer(timer) }
        job.timer = nil
    }

    /// The active job holding `node`, if any.
    func jobUsing(_ node: String) -> BlockJob? {
        jobs.first { $0.isActive && $0.nodes.contains(node) }
    }

    /// Bitmaps a job used are free again.
    func releaseBitmaps(of job: BlockJob) {
        for n in graph.nodes.indices {
            for b in graph.nodes[n].bitmaps.indices where job.nodes.contains("bitmap:\(graph.nodes[n].name)/\(graph.nodes[n].bitmaps[b].name)") {
                graph.nodes[n].bitmaps[b].busy = false
            }
        }
    }

    /// A job ID of the caller's or the device's, unique among jobs.
    func jobID(_ given: String?, device: String) -> Result<String, QMPError> {
        let id = given ?? device
        if given != nil && !QEMUIdentifier.isWellFormed(id) { return .failure(.generic("Invalid job ID '\(id)'")) }
        if jobs.contains(where: { $0.id == id }) { return .failure(.generic("Job ID '\(id)' already in use")) }
        if let refusal = refusalOfNewJob { return .failure(refusal) }
        return .success(id)
    }

    /// Past `BlockLimits.jobsPerVM` jobs (concluded ones not yet dismissed
    /// among them) a new one is refused.
    var refusalOfNewJob: QMPError? {
        jobs.count < BlockLimits.jobsPerVM ? nil : BlockLimits.refusal(BlockLimits.jobsPerVM, "jobs")
    }
}
