import FleetCore
import UVLoop

/// A scheduler whose clock moves only when a test says so.
///
/// ```swift
/// let clock = VirtualScheduler()
/// _ = clock.schedule(afterMilliseconds: 1000) { print("fired") }
/// clock.advance(by: 999)   // nothing
/// clock.advance(by: 1)     // prints "fired"
/// ```
public final class VirtualScheduler: Scheduler {
    private struct Item {
        let due: UInt64
        let sequence: UInt64
        let action: ScheduledAction
        let body: () -> Void
    }

    public private(set) var nowMilliseconds: UInt64 = 0
    private var items: [Item] = []
    /// Runs each due action; a harness may wrap it: on a real loop each
    /// timer callback is one turn, and the dispatch fuzzer times each one.
    public var runAction: (() -> Void) -> Void = { $0() }
    private var sequence: UInt64 = 0

    public init() {}

    public func schedule(afterMilliseconds delay: UInt64, _ action: @escaping () -> Void) -> ScheduledAction {
        sequence += 1
        // Cancelling drops the action at once, as closing a loop timer does:
        // a cancelled action that captured this clock would otherwise keep
        // it (and whatever else it captured) alive in a cycle.
        let handle = ScheduledAction(cancel: { [weak self, sequence] in
            self?.items.removeAll { $0.sequence == sequence }
        })
        // Saturates as libuv's uv_timer_start does: a client may ask for a
        // delay of up to 2^64-1 ms.
        let (due, overflow) = nowMilliseconds.addingReportingOverflow(delay)
        items.append(Item(due: overflow ? .max : due, sequence: sequence, action: handle, body: action))
        return handle
    }

    /// Work for the next turn (`scheduleNextTurn`): not a timer, so it
    /// counts in neither `pendingCount` nor `scheduledCount`.
    private var nextTurn: [(action: ScheduledAction, body: () -> Void)] = []
    /// Next-turn work ever scheduled: what a test counts to see work yield.
    public private(set) var nextTurnCount: UInt64 = 0

    /// Runs `action` at the next `advance`, before any timer, as a real loop
    /// runs it after its next poll.
    public func scheduleNextTurn(_ action: @escaping () -> Void) -> ScheduledAction {
        let handle = ScheduledAction(cancel: {})
        nextTurn.append((handle, action))
        nextTurnCount += 1
        return handle
    }

    /// Moves the clock forward, running everything that falls due, in order.
    public func advance(by milliseconds: UInt64) {
        let (sum, overflow) = nowMilliseconds.addingReportingOverflow(milliseconds)
        let target = overflow ? .max : sum
        runNextTurns()
        while let index = firstDue(by: target) {
            let next = items.remove(at: index)
            nowMilliseconds = max(nowMilliseconds, next.due)
            next.action.markFired()
            runAction(next.body)
            runNextTurns()
        }
        nowMilliseconds = target
    }

    /// Each turn's work, until none is left (each may queue the next).
    private func runNextTurns() {
        while !nextTurn.isEmpty {
            let turn = nextTurn
            nextTurn.removeAll()
            for (action, body) in turn where !action.isCancelled {
                action.markFired()
                runAction(body)
            }
        }
    }

    /// The earliest action due by `target` (in scheduling order among equals).
    /// Cancelled actions are already gone (see `schedule`).
    private func firstDue(by target: UInt64) -> Int? {
        var first: Int?
        for i in items.indices where items[i].due <= target {
            if let f = first, (items[f].due, items[f].sequence) < (items[i].due, items[i].sequence) { continue }
            first = i
        }
        return first
    }

    /// Actions waiting to run.
    public var pendingCount: Int { items.count }

    /// Actions ever scheduled: what a test counts to see that a path made
    /// no timer at all (one made and cancelled leaves `pendingCount` as it was).
    public var scheduledCount: UInt64 { sequence }
}
