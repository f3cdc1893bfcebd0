import UVLoop

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
}
