import QMPServer
import QMPWire

/// What one loop's VMs did, counted on that loop's thread only.
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

    var commands: [String: CommandStats] = [:]
    var pluginReplies: [String: LatencyHistogram] = [:]
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
        let outcome: Int
        switch result {
        case .success, .encoded: outcome = 0
        case .failure(let error): outcome = 1 + (QMPErrorClass.allCases.firstIndex(of: error.errorClass) ?? 0)
        }
        commands[name, default: CommandStats()].record(outcome: outcome, nanoseconds: nanoseconds)
    }

    /// A plugin answered (or timed out) after `nanoseconds`.
    func pluginReplied(_ plugin: String, nanoseconds: UInt64) {
        pluginReplies[plugin, default: LatencyHistogram()].record(nanoseconds: nanoseconds)
    }
}
