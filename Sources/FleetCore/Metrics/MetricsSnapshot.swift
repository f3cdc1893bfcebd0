/// The fleet's metrics at one moment: every loop's counters added up, and
/// gauges counted from the VMs themselves (their run states, their clients).
///
/// Taken per loop on that loop's thread (`Router.metricsSnapshot()`), then
/// merged on the thread that serves the scrape.
public struct MetricsSnapshot: Sendable, Equatable {
    public struct Command: Sendable, Equatable {
        /// Answers by outcome, in `LoopMetrics.outcomeLabels` order.
        public var outcomes: [UInt64]
        public var latency: LatencyHistogram
    }

    /// VMs by run state (`RunState.rawValue`).
    public var vmsByState: [String: Int] = [:]
    /// Proxied VMs (real QEMUs behind the fleet).
    public var proxiedVMs = 0
    /// Clients attached to VMs now.
    public var clients = 0
    public var commands: [String: Command] = [:]
    public var pluginReplies: [String: LatencyHistogram] = [:]
    public var eventsEmitted: UInt64 = 0
    public var eventsSent: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    public var clientsAccepted: UInt64 = 0
    public var clientsDroppedNotReading: UInt64 = 0
    public var clientsRefusedAtLimit: UInt64 = 0
    /// Faults that fired (`FleetCounters.faultsFired`), fleet-wide.
    public var faultsFired: UInt64 = 0
    /// Loop threads that answered the scrape.
    public var loops = 0

    public init() {}

    /// One loop's counters, copied on its thread (the copy shares storage
    /// until the loop next writes, so taking it costs no more than the
    /// dictionaries' retains).
    init(_ metrics: LoopMetrics) {
        commands = metrics.commands.mapValues { Command(outcomes: $0.outcomes, latency: $0.latency) }
        // A plugin with instances but no answer yet has no series, as before.
        pluginReplies = metrics.pluginReplies.compactMapValues { $0.latency.count > 0 ? $0.latency : nil }
        eventsEmitted = metrics.eventsEmitted
        eventsSent = metrics.eventsSent
        bytesIn = metrics.bytesIn
        bytesOut = metrics.bytesOut
        clientsAccepted = metrics.clientsAccepted
        clientsDroppedNotReading = metrics.clientsDroppedNotReading
        clientsRefusedAtLimit = metrics.clientsRefusedAtLimit
        faultsFired = metrics.faultsFired
        loops = 1
    }

    /// Adds another loop's snapshot into this one.
    public mutating func add(_ other: MetricsSnapshot) {
        for (state, count) in other.vmsByState { vmsByState[state, default: 0] += count }
        proxiedVMs += other.proxiedVMs
        clients += other.clients
        for (name, command) in other.commands {
            if var mine = commands[name] {
                for index in mine.outcomes.indices { mine.outcomes[index] &+= command.outcomes[index] }
                mine.latency.add(command.latency)
                commands[name] = mine
            } else {
                commands[name] = command
            }
        }
        for (plugin, histogram) in other.pluginReplies { pluginReplies[plugin, default: LatencyHistogram()].add(histogram) }
        eventsEmitted &+= other.eventsEmitted
        eventsSent &+= other.eventsSent
        bytesIn &+= other.bytesIn
        bytesOut &+= other.bytesOut
        clientsAccepted &+= other.clientsAccepted
        clientsDroppedNotReading &+= other.clientsDroppedNotReading
        clientsRefusedAtLimit &+= other.clientsRefusedAtLimit
        faultsFired &+= other.faultsFired
        loops += other.loops
    }
}
