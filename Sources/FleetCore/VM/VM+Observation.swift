import QMPServer
import QMPWire

/// What a VM tells its loop's metrics and its watchers (the fleet page)
/// about the commands it answers and the events it sends.
extension VM {
    /// Wraps a command's completion so that, when it runs, the command is
    /// counted and timed in the loop's metrics and kept in the VM's history.
    /// Costs a clock read and a closure per command (the start is the
    /// session's reading, `CommandCall.started`; the answer's reading is
    /// kept in `CommandCall.answered`, where the session's next step
    /// starts from it); text is made only while the page watches the VM.
    /// A command answered while it is dispatched (`.immediate`) is observed
    /// the same way without the closure (`CommandObserver.answered`, called
    /// by `VM.route`).
    ///
    /// The closure holds what it records into (the loop's metrics, the
    /// command table, the VM's observation as it is at dispatch), not the
    /// VM: a weak reference to the VM cost a side table entry made, loaded
    /// and destroyed per command, 7 % of a pipelined `query-status`
    /// (docs/performance.md). None of them holds a completion, so no cycle.
    func observing(_ call: CommandCall, _ complete: @escaping (QMPReply) -> Void) -> (QMPReply) -> Void {
        observer(of: call).wrapping(complete, of: call)
    }

    /// What records `call`'s answer, made as the command starts: its start
    /// reading, and the metrics, table and observation as they are then.
    func observer(of call: CommandCall) -> CommandObserver {
        CommandObserver(started: call.started != 0 ? call.started : MonotonicClock.nanoseconds(),
                        metrics: metrics, table: table, observation: recordingObservation)
    }

    /// Counts, times and records one command's answer (`VM.observer(of:)`).
    struct CommandObserver {
        let started: UInt64
        let metrics: LoopMetrics
        let table: CommandTable
        let observation: VMObservation?

        /// `complete`, after `answered` has recorded what it is given.
        func wrapping(_ complete: @escaping (QMPReply) -> Void, of call: CommandCall) -> (QMPReply) -> Void {
            { result in
                answered(call, result)
                complete(result)
            }
        }

        /// `call` answered `result`: now, or at the reading a plugin's
        /// answer was taken at (`PendingRequests.finish`).
        func answered(_ call: CommandCall, _ result: QMPReply) {
            let answered = call.answered != 0 ? call.answered : MonotonicClock.nanoseconds()
            call.answered = answered
            let elapsed = answered &- started
            metrics.commandAnswered(slot: VM.metricsSlot(for: call, result, table: table), result, nanoseconds: elapsed)
            observation?.record(session: call.session?.id, request: call.request, result: result, answeredAt: answered, nanoseconds: elapsed)
        }
    }

    /// The command's own counters (the slot its table's entry carries),
    /// unless no table has it (CommandNotFound, or a VM that was ending):
    /// clients choose such names freely, and a label per name would grow
    /// the metrics without bound.
    fileprivate static func metricsSlot(for call: CommandCall, _ result: QMPReply, table: CommandTable) -> Int {
        if call.metricsSlot >= 0 { return call.metricsSlot }
        if case .failure = result, table.lookup(call.name) == nil { return CommandSlots.unknown }
        return CommandSlots.slot(call.name)
    }

    /// The observation commands are recorded in, made at the first one
    /// (none with `command-history-per-vm: 0` until someone watches).
    private var recordingObservation: VMObservation? {
        if observation == nil, owner.limits.commandHistoryPerVM > 0 { makeObservation() }
        return observation
    }

    private func makeObservation() {
        observation = VMObservation(historyCapacity: owner.limits.commandHistoryPerVM, textLimit: owner.limits.pageTextBytes)
    }

    /// An event left the VM's bus for its clients.
    func eventSent(_ bytes: [UInt8]) {
        owner.metrics.eventsEmitted &+= 1
        observation?.eventSent(bytes)
    }

    /// Starts watching the VM (loop thread): returns the commands it
    /// answered so far, oldest first.
    func watch(_ token: UInt64, _ watcher: @escaping (VMObservation.Activity) -> Void) -> [String] {
        if observation == nil { makeObservation() }
        return observation?.watch(token, watcher) ?? []
    }
}
