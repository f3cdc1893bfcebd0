/// Something that runs actions later: the loop's timers in a real fleet, a
/// virtual clock in tests (QMPFleetTesting's `VirtualScheduler`), so that
/// event throttling, block jobs and the simulated guest run the same code in
/// both and tests need not sleep.
public protocol Scheduler: AnyObject {
    /// Milliseconds on this scheduler's clock (monotonic, arbitrary origin).
    var nowMilliseconds: UInt64 { get }
    /// Runs `action` once after `delay` milliseconds, on the loop thread.
    func schedule(afterMilliseconds delay: UInt64, _ action: @escaping () -> Void) -> ScheduledAction
    /// Runs `action` on a later turn, after the loop has handled the I/O
    /// that is ready now: the rest of a busy session's work, so that it
    /// shares the loop with every other client.
    func scheduleNextTurn(_ action: @escaping () -> Void) -> ScheduledAction
}

extension Scheduler {
    /// A clock without I/O has no turns but its own: the next one is now.
    public func scheduleNextTurn(_ action: @escaping () -> Void) -> ScheduledAction {
        schedule(afterMilliseconds: 0, action)
    }
}

/// A pending action; `cancel()` is idempotent and safe after it fired.
public final class ScheduledAction {
    private var cancelHandler: (() -> Void)?
    public private(set) var isCancelled = false

    public init(cancel: @escaping () -> Void) { cancelHandler = cancel }

    public func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        let handler = cancelHandler
        cancelHandler = nil
        handler?()
    }

    /// Called by the scheduler once the action ran, to drop the cancel hook.
    public func markFired() { cancelHandler = nil }
}
