/// The scheduler of a running fleet: one libuv timer per scheduled action.
public final class LoopScheduler: Scheduler {
    private let loop: EventLoop

    public init(loop: EventLoop) { self.loop = loop }

    public var nowMilliseconds: UInt64 { loop.nowMilliseconds }

    public func schedule(afterMilliseconds delay: UInt64, _ action: @escaping () -> Void) -> ScheduledAction {
        let timer = LoopTimer(loop: loop)
        let scheduled = ScheduledAction(cancel: { timer.close() })
        timer.start(afterMilliseconds: delay) { [weak scheduled] in
            timer.close()
            scheduled?.markFired()
            action()
        }
        return scheduled
    }

    /// Not a 0 ms timer: libuv 1.44 runs one started from a timer callback
    /// in the same pass, before any I/O (see UVLoop's `afterNextPoll`).
    public func scheduleNextTurn(_ action: @escaping () -> Void) -> ScheduledAction {
        let state = NextTurnState()
        let scheduled = ScheduledAction(cancel: { state.isCancelled = true })
        loop.afterNextPoll { [weak scheduled] in
            guard !state.isCancelled else { return }
            scheduled?.markFired()
            action()
        }
        return scheduled
    }
}

/// Whether a next-turn action was cancelled before its turn came.
private final class NextTurnState {
    var isCancelled = false
}
