/// QEMU's `MigrationStatus`, the values the MIGRATION event carries.
enum MigrationStatus: String {
    case none, setup, cancelling, cancelled, active
    case postcopyActive = "postcopy-active"
    case postcopyPaused = "postcopy-paused"
    case postcopyRecover = "postcopy-recover"
    case completed, failed, colo
    case preSwitchover = "pre-switchover"
    case device
    case waitUnplug = "wait-unplug"

    /// QEMU's `migration_is_running`: a second migration is refused, and
    /// migrate_cancel acts.
    var isRunning: Bool {
        switch self {
        case .setup, .active, .postcopyActive, .postcopyPaused, .postcopyRecover, .preSwitchover, .device, .waitUnplug, .cancelling, .colo:
            return true
        case .none, .completed, .failed, .cancelled:
            return false
        }
    }
}
