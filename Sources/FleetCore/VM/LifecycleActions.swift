import QAPIRuntime
import QMPWire

/// What a VM does when its guest shuts down, reboots, panics or lets its
/// watchdog expire: QEMU's `-no-shutdown`/`-no-reboot`/`-action` settings,
/// changed at run time by `set-action` (softmmu/runstate-action.c).
public struct LifecycleActions: Sendable, Equatable {
    /// QAPI `ShutdownAction`.
    public enum Shutdown: String, Sendable { case poweroff, pause }
    /// QAPI `RebootAction`.
    public enum Reboot: String, Sendable { case reset, shutdown }
    /// QAPI `PanicAction`.
    public enum Panic: String, Sendable {
        case pause, shutdown, none
        case exitFailure = "exit-failure"
    }
    /// QAPI `WatchdogAction`: recorded; no simulated watchdog expires yet.
    public enum Watchdog: String, Sendable {
        case reset, shutdown, poweroff, pause, debug, none
        case injectNMI = "inject-nmi"
    }

    public var shutdown: Shutdown
    public var reboot: Reboot
    public var panic: Panic = .shutdown
    public var watchdog: Watchdog = .reset

    /// QEMU's defaults, with `-no-shutdown` and `-no-reboot` applied.
    public init(noShutdown: Bool, noReboot: Bool) {
        shutdown = noShutdown ? .pause : .poweroff
        reboot = noReboot ? .shutdown : .reset
    }

    /// `set-action`'s typed arguments; members not given keep their value.
    /// (These public enums are the generated ones' values: the generated
    /// types are internal to FleetCore.)
    mutating func apply(_ arguments: QAPI.SetActionCommand) {
        if let action = arguments.shutdown.flatMap({ Shutdown(rawValue: $0.rawValue) }) { shutdown = action }
        if let action = arguments.reboot.flatMap({ Reboot(rawValue: $0.rawValue) }) { reboot = action }
        if let action = arguments.panic.flatMap({ Panic(rawValue: $0.rawValue) }) { panic = action }
        if let action = arguments.watchdog.flatMap({ Watchdog(rawValue: $0.rawValue) }) { watchdog = action }
    }
}
