import FleetCore
import Logging
#if canImport(Glibc)
import Glibc
import UVLoop
#endif

/// Waits for a launched upstream QEMU to exit without blocking the loop:
/// `waitpid(WNOHANG)` on the VM's scheduler, every `interval` ms, and
/// SIGKILL once it outlived `graceMilliseconds` after SIGTERM. A fleet that
/// exits first leaves the child to init, as any process's orphans.
enum ChildReaper {
    static let interval: UInt64 = 20
    static let graceMilliseconds: UInt64 = 5_000

    static func reap(_ pid: pid_t, scheduler: any Scheduler, logger: Logger, waited: UInt64 = 0) {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid || (rc < 0 && errno != EINTR) { return }
        if waited >= graceMilliseconds && waited < graceMilliseconds + interval {
            logger.warning("upstream process \(pid) ignored SIGTERM for \(graceMilliseconds) ms; killing it")
            kill(pid, SIGKILL)
        }
        _ = scheduler.schedule(afterMilliseconds: interval) {
            reap(pid, scheduler: scheduler, logger: logger, waited: waited + interval)
        }
    }
}
