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

    /// `set-action`'s arguments (already checked against the schema);
    /// members not given keep their value.
    mutating func apply(_ arguments: JSONObject) {
        if let value = arguments["shutdown"]?.stringValue, let action = Shutdown(rawValue: value) { shutdown = action }
        if let value = arguments["reboot"]?.stringValue, let action = Reboot(rawValue: value) { reboot = action }
        if let value = arguments["panic"]?.stringValue, let action = Panic(rawValue: value) { panic = action }
        if let value = arguments["watchdog"]?.stringValue, let action = Watchdog(rawValue: value) { watchdog = action }
    }
}
