import QMPPluginKit
import QMPWire

/// A block job (QEMU's Job + BlockJob): its state machine, progress and
/// what it does to the graph when it ends.
final class BlockJob {
    enum Kind: String {
        case commit, stream, mirror, backup
        /// Jobs that are not block jobs (no BLOCK_JOB_* events, not in query-block-jobs).
        case create, amend
        case snapshotSave = "snapshot-save", snapshotLoad = "snapshot-load", snapshotDelete = "snapshot-delete"

        var isBlockJob: Bool { [.commit, .stream, .mirror, .backup].contains(self) }
    }

    /// QEMU's JobVerb: which states accept which client command (job.c's JobVerbTable).
    enum Verb: String {
        case cancel, pause, resume, complete, finalize, dismiss
        case setSpeed = "set-speed"

        var allowedStates: Set<String> {
            switch self {
            case .cancel: return ["created", "running", "paused", "ready", "standby", "waiting", "pending", "aborting"]
            case .pause, .resume, .setSpeed: return ["created", "running", "paused", "ready", "standby"]
            case .complete: return ["ready"]
            case .finalize: return ["pending"]
            case .dismiss: return ["concluded"]
            }
        }
    }

    let id: String
    let kind: Kind
    var status = "created"
    var len: Int64
    var offset: Int64 = 0
    /// Thousandths of a byte of progress not yet counted.
    var progressCarry: Int64 = 0
    var speed: Int64
    var userPaused = false
    var autoFinalize: Bool
    var autoDismiss: Bool
    var ioStatus = "ok"
    var error: String?
    let onError: String
    /// Mirror and active commit wait in `ready` for block-job-complete.
    let waitsForCompletion: Bool
    /// Nodes the job holds: busy for other jobs and for removal.
    let nodes: Set<String>
    /// Graph changes on success; `pivot` is false when a ready mirror was cancelled.
    var finish: (inout BlockGraph, _ pivot: Bool) -> Void = { _, _ in }
    /// Graph clean-up on failure or cancellation.
    var abort: (inout BlockGraph) -> Void = { _ in }
    var timer: TimerID?
    /// Set by a non-forced cancel of a ready job: it completes without pivoting.
    var pivot = true

    init(id: String, kind: Kind, len: Int64, speed: Int64, options: JobStartOptions, waitsForCompletion: Bool, nodes: Set<String>) {
        self.id = id
        self.kind = kind
        self.len = len
        self.speed = speed
        self.waitsForCompletion = waitsForCompletion
        self.nodes = nodes
        autoFinalize = options.autoFinalize ?? true
        autoDismiss = options.autoDismiss ?? true
        onError = options.onError ?? "report"
    }

    var isReady: Bool { status == "ready" || status == "standby" }
    /// Still holding its nodes.
    var isActive: Bool { status != "concluded" && status != "null" }

    func check(_ verb: Verb) -> QMPError? {
        verb.allowedStates.contains(status) ? nil
            : .generic("Job '\(id)' in state '\(status)' cannot accept command verb '\(verb.rawValue)'")
    }

    func busyError(node: String) -> QMPError {
        .generic("Node '\(node)' is busy: block device is in use by block job: \(kind.rawValue)")
    }

    /// BlockJobInfo.
    var info: JSONValue {
        var info: JSONObject = ["type": .string(kind.rawValue), "device": .string(id), "len": .int(len), "offset": .int(offset),
                                "busy": false, "paused": .bool(userPaused || status == "paused" || status == "standby"),
                                "speed": .int(speed), "io-status": .string(ioStatus), "ready": .bool(isReady),
                                "status": .string(status), "auto-finalize": .bool(autoFinalize), "auto-dismiss": .bool(autoDismiss)]
        if let error { info["error"] = .string(error) }
        return .object(info)
    }

    /// JobInfo.
    var jobInfo: JSONValue {
        var info: JSONObject = ["id": .string(id), "type": .string(kind.rawValue), "status": .string(status),
                                "current-progress": .int(offset), "total-progress": .int(len)]
        if let error { info["error"] = .string(error) }
        return .object(info)
    }

    /// The data of BLOCK_JOB_COMPLETED/CANCELLED/READY.
    var eventData: JSONObject {
        ["type": .string(kind.rawValue), "device": .string(id), "len": .int(len), "offset": .int(offset), "speed": .int(speed)]
    }
}
