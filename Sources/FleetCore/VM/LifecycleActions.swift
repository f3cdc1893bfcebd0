import QAPIRuntime
import QMPWire

/// What a VM does when its guest shuts down, reboots, panics or lets its
/// watchdog expire: QEMU's `-no-shutdown`/`-no-reboot`/`-action` settings,
/// changed at run time by `set-action` (softmmu/runstate-action.c).
///
/// Each action is the generated QAPI enum `set-action` takes, so the
/// values have one owner, the core schema.
package struct LifecycleActions: Sendable, Equatable {
    package var shutdown: QAPI.ShutdownAction
    package var reboot: QAPI.RebootAction
    package var panic: QAPI.PanicAction = .shutdown
    /// Recorded; no simulated watchdog expires yet.
    package var watchdog: QAPI.WatchdogAction = .reset

    /// QEMU's defaults, with `-no-shutdown` and `-no-reboot` applied.
    package init(noShutdown: Bool, noReboot: Bool) {
        shutdown = noShutdown ? .pause : .poweroff
        reboot = noReboot ? .shutdown : .reset
    }

    /// `set-action`'s typed arguments; members not given keep their value.
    mutating func apply(_ arguments: QAPI.SetActionCommand) {
        if let action = arguments.shutdown { shutdown = action }
        if let action = arguments.reboot { reboot = action }
        if let action = arguments.panic { panic = action }
        if let action = arguments.watchdog { watchdog = action }
    }
}
