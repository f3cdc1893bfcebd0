import PluginHost
import QMPServer
import QMPWire

/// What one loop's VMs did, counted on that loop's thread only.
/// (Hence `@exclusivity(unchecked)` on the tables every command updates:
/// one thread, no overlapping access, and the checks cost every command.)
///
/// Every router (one per loop) has one. The hot path (a command answered,
/// bytes read or written, an event sent) adds to plain fields and to
/// dictionary entries that exist after a name's first use: no lock, no
/// atomic, no allocation. A scrape asks each loop for a `MetricsSnapshot`
/// on that loop's own thread (`FleetShards.collectMetrics`) and adds them
/// up elsewhere, so nothing here is ever shared.
public final class LoopMetrics: SessionMetrics {
    /// A command's answers by outcome (`outcomeLabels`) and its latency.
    struct CommandStats {
        var outcomes = [UInt64](repeating: 0, count: LoopMetrics.outcomeLabels.count)
        var latency = LatencyHistogram()

        mutating func record(outcome: Int, nanoseconds: UInt64) {
            outcomes[outcome] &+= 1
            latency.record(nanoseconds: nanoseconds)
        }
    }

    /// Outcome labels: index 0 is success, then QMP's error classes.
    public static let outcomeLabels = ["ok"] + QMPErrorClass.allCases.map(\.rawValue)
    /// The command label for a name no table has: clients choose those
    /// names freely, and each label would be a series for good.
    public static let unknownCommand = "(unknown)"

    /// Each command's counters at its `CommandSlots` number (nil: none yet).
    @exclusivity(unchecked) private(set) var commandsBySlot: [CommandStats?] = []

    /// Each command's counters by name (what a scrape reads).
    var commands: [String: CommandStats] {
        let names = CommandSlots.names
        var commands: [String: CommandStats] = [:]
        for (slot, stats) in commandsBySlot.enumerated() {
            if let stats { commands[names[slot]] = stats }
        }
        return commands
    }
    /// One plugin's reply times on this loop. Each plugin instance reaches
    /// its plugin's through its placement (`pluginPlacement(for:)`, looked
    /// up when it is made), so a reply is counted without hashing the
    /// plugin's name (2 % of a pipelined plugin query, docs/performance.md).
    final class PluginReplyTimes: PluginReplyTimer {
        @exclusivity(unchecked) var latency = LatencyHistogram()

        func record(nanoseconds: UInt64) { latency.record(nanoseconds: nanoseconds) }
    }

    @exclusivity(unchecked) var pluginReplies: [String: PluginReplyTimes] = [:]
    // eventsSent, bytesIn, bytesOut and clientsDroppedNotReading are
    // SessionMetrics', counted by the sessions.
    var eventsEmitted: UInt64 = 0
    var clientsAccepted: UInt64 = 0
    var clientsRefusedAtLimit: UInt64 = 0
    /// Injected faults that fired on this loop's VMs (`VMFaults.apply`).
    var faultsFired: UInt64 = 0

    public override init() {}

    /// A VM command was answered `nanoseconds` after it was dispatched.
    func commandAnswered(_ name: String, _ result: QMPReply, nanoseconds: UInt64) {
        commandAnswered(slot: CommandSlots.slot(name), result, nanoseconds: nanoseconds)
    }

    /// The same, for the command numbered `slot` (`CommandSlots`): no hash.
    func commandAnswered(slot: Int, _ result: QMPReply, nanoseconds: UInt64) {
        let outcome: Int
        switch result {
        case .success, .encoded: outcome = 0
        case .failure(let error): outcome = 1 + (QMPErrorClass.allCases.firstIndex(of: error.errorClass) ?? 0)
        }
        if slot >= commandsBySlot.count {
            commandsBySlot.append(contentsOf: repeatElement(nil, count: slot + 1 - commandsBySlot.count))
        }
        if commandsBySlot[slot] == nil { commandsBySlot[slot] = CommandStats() }
        commandsBySlot[slot]!.record(outcome: outcome, nanoseconds: nanoseconds)
    }

    /// Where `plugin`'s answers (and timeouts) are timed on this loop.
    func pluginReplyTimes(_ plugin: String) -> PluginReplyTimes {
        if let times = pluginReplies[plugin] { return times }
        let times = PluginReplyTimes()
        pluginReplies[plugin] = times
        return times
    }

    /// Each plugin's placement on this loop, shared by its instances here.
    @exclusivity(unchecked) private var placements: [ObjectIdentifier: PluginPlacement] = [:]

    /// `library`'s placement on this loop (made on the loop's thread, with
    /// its reply times), shared by every instance of it on this loop.
    func pluginPlacement(for library: PluginLibrary) -> PluginPlacement {
        if let kept = placements[ObjectIdentifier(library)], kept.isOnCurrentThread { return kept }
        let made = PluginPlacement(library: library, replyTimes: pluginReplyTimes(library.name))
        placements[ObjectIdentifier(library)] = made
        return made
    }
}
