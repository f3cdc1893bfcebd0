/// The members every job-starting command gives its job besides its own:
/// QEMU's job-id, speed, auto-finalize, auto-dismiss and on-error (stream,
/// commit) or on-source-error (backup, mirror).
struct JobStartOptions {
    var jobID: String?
    var speed: Int64?
    var autoFinalize: Bool?
    var autoDismiss: Bool?
    /// BlockdevOnError's name.
    var onError: String?

    init(jobID: String? = nil, speed: Int64? = nil, autoFinalize: Bool? = nil, autoDismiss: Bool? = nil, onError: String? = nil) {
        self.jobID = jobID
        self.speed = speed
        self.autoFinalize = autoFinalize
        self.autoDismiss = autoDismiss
        self.onError = onError
    }
}
