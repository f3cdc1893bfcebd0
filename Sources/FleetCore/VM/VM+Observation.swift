/// What a VM tells its loop's metrics and its watchers (the fleet page)
/// about the commands it answers and the events it sends.
extension VM {
    /// Wraps a command's completion so that, when it runs, the command is
    /// counted and timed in the loop's metrics and kept in the VM's history.
    /// Costs a clock read and a closure per command; text is made only
    /// while the page watches the VM.
    func observing(_ call: CommandCall, _ complete: @escaping (CommandResult) -> Void) -> (CommandResult) -> Void {
        let started = MonotonicClock.nanoseconds()
        return { [weak self] result in
            if let self {
                let elapsed = MonotonicClock.nanoseconds() &- started
                router.metrics.commandAnswered(metricsLabel(for: call, result), result, nanoseconds: elapsed)
                observation?.record(session: call.session?.id, request: call.request, result: result, nanoseconds: elapsed)
            }
            complete(result)
        }
    }

    /// The command's own name, unless no table has it (CommandNotFound, or
    /// a VM that was ending): clients choose such names freely, and a label
    /// per name would grow the metrics without bound.
    private func metricsLabel(for call: CommandCall, _ result: CommandResult) -> String {
        if case .failure = result, table.lookup(call.name) == nil { return LoopMetrics.unknownCommand }
        return call.name
    }

    /// An event left the VM's bus for its clients.
    func eventSent(_ bytes: [UInt8]) {
        router.metrics.eventsEmitted &+= 1
        observation?.eventSent(bytes)
    }

    /// Starts watching the VM (loop thread): returns the commands it
    /// answered so far, oldest first.
    func watch(_ token: UInt64, _ watcher: @escaping (VMObservation.Activity) -> Void) -> [String] {
        if observation == nil {
            observation = VMObservation(historyCapacity: 0, textLimit: router.config.limits.pageTextBytes)
        }
        return observation?.watch(token, watcher) ?? []
    }
}
