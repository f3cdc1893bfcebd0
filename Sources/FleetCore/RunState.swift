import QAPIRuntime
import QMPWire

/// QEMU's `RunState`: where a VM is in its life.
///
/// The names are QEMU's wire names. Only the transitions a simulated VM can
/// make are used, but all states are declared so `query-status` and
/// introspection match QEMU.
public enum RunState: String, Sendable, CaseIterable {
    case debug
    case inmigrate
    case internalError = "internal-error"
    case ioError = "io-error"
    case paused
    case postmigrate
    case prelaunch
    case finishMigrate = "finish-migrate"
    case restoreVM = "restore-vm"
    case running
    case saveVM = "save-vm"
    case shutdown
    case suspended
    case watchdog
    case guestPanicked = "guest-panicked"
    case colo

    /// `query-status`'s `running`: true only while vCPUs run.
    public var isRunning: Bool { self == .running }

    /// `query-status`'s answer in this state (StatusInfo's members in
    /// declaration order; the writer orders them as QEMU does). One stored
    /// value per state: a session writes it once and resends those bytes
    /// until the state changes (`QMPReplyCache`).
    public var statusInfo: JSONValue {
        // A short scan of the cases compares tags (a dictionary would hash,
        // and a scan of the values would retain each one).
        guard let index = Self.states.firstIndex(of: self) else { return .null }
        return Self.statusInfos[index]
    }

    private static let states = allCases
    private static let statusInfos: [JSONValue] = states.map { state in
        ["running": .bool(state.isRunning), "singlestep": false, "status": .string(state.rawValue)]
    }

    /// QEMU's `runstate_needs_reset()`: `cont` is refused until `system_reset`.
    public var needsReset: Bool {
        self == .shutdown || self == .guestPanicked || self == .internalError
    }
}

extension QAPI.ShutdownCause {
    /// QEMU's `guest` member of SHUTDOWN and RESET: the guest asked for it.
    package var isGuest: Bool {
        self == .guestShutdown || self == .guestReset || self == .guestPanic
    }
}
