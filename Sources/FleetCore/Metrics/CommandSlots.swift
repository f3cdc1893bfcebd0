import SharedValues

/// A number for each command name the process has seen, so that a loop's
/// metrics count a command at an array index its command table hands
/// over with the handler (`CommandDispatch.resolve` sets
/// `CommandCall.metricsSlot`): the command's name is hashed once per
/// request, for the handler, not a second time for its counters (2 % of a
/// pipelined `query-status`, docs/performance.md).
///
/// Names are numbered when a command table is made (and a scrape reads
/// them), never per request, so the lock is off the hot path. The set is
/// bounded by the schemas' command names and `LoopMetrics.unknownCommand`:
/// a client's unknown name is never numbered.
enum CommandSlots {
    private static let table = Locked<(numbers: [String: Int], names: [String])>(([:], []))

    /// The number of `name`, given at its first use.
    static func slot(_ name: String) -> Int {
        table.withLock { table in
            if let number = table.numbers[name] { return number }
            let number = table.names.count
            table.numbers[name] = number
            table.names.append(name)
            return number
        }
    }

    /// Every name numbered so far, at its number.
    static var names: [String] { table.withLock { $0.names } }

    /// The slot of `LoopMetrics.unknownCommand`.
    static let unknown = slot(LoopMetrics.unknownCommand)
}
