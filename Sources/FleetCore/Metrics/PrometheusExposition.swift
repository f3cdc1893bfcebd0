/// Renders a `MetricsSnapshot` in Prometheus' text exposition format
/// (version 0.0.4): `# HELP` and `# TYPE` lines, then one sample a line.
///
/// ```
/// # HELP qmpfleet_commands_total QMP commands answered, by command and outcome.
/// # TYPE qmpfleet_commands_total counter
/// qmpfleet_commands_total{command="query-status",outcome="ok"} 12
/// ```
///
/// Written directly rather than through swift-prometheus: its histogram
/// takes a lock on every observation, and one histogram per command name
/// would be shared by every loop, a lock on the fleet's hot path. Here the
/// loops count on their own and only the scrape adds up.
public enum PrometheusExposition {
    /// The `Content-Type` of this format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = ""
        family(&out, "qmpfleet_vms", "gauge", "VMs of the fleet, by run state (proxied VMs as state \"proxied\").")
        var states = RunState.allCases.map { ($0.rawValue, snapshot.vmsByState[$0.rawValue] ?? 0) }
        states.append(("proxied", snapshot.proxiedVMs))
        for (state, count) in states { sample(&out, "qmpfleet_vms", [("state", state)], String(count)) }

        family(&out, "qmpfleet_clients", "gauge", "QMP clients attached to VMs.")
        sample(&out, "qmpfleet_clients", [], String(snapshot.clients))
        counter(&out, "qmpfleet_clients_accepted_total", "QMP clients that connected to a VM.", snapshot.clientsAccepted)
        family(&out, "qmpfleet_clients_dropped_total", "counter",
               "QMP clients the fleet closed: not reading their output, or over clients-per-vm.")
        sample(&out, "qmpfleet_clients_dropped_total", [("reason", "not-reading")], String(snapshot.clientsDroppedNotReading))
        sample(&out, "qmpfleet_clients_dropped_total", [("reason", "clients-per-vm")], String(snapshot.clientsRefusedAtLimit))

        let names = snapshot.commands.keys.sorted()
        family(&out, "qmpfleet_commands_total", "counter", "QMP commands answered, by command and outcome (ok or the error class).")
        for name in names {
            guard let command = snapshot.commands[name] else { continue }
            for (index, label) in LoopMetrics.outcomeLabels.enumerated() where command.outcomes[index] > 0 {
                sample(&out, "qmpfleet_commands_total", [("command", name), ("outcome", label)], String(command.outcomes[index]))
            }
        }
        family(&out, "qmpfleet_command_duration_seconds", "histogram", "Time from dispatch to answer of QMP commands.")
        for name in names {
            guard let command = snapshot.commands[name] else { continue }
            histogram(&out, "qmpfleet_command_duration_seconds", [("command", name)], command.latency)
        }
        family(&out, "qmpfleet_plugin_reply_seconds", "histogram", "Time a plugin took to answer a request (timeouts included).")
        for plugin in snapshot.pluginReplies.keys.sorted() {
            guard let latency = snapshot.pluginReplies[plugin] else { continue }
            histogram(&out, "qmpfleet_plugin_reply_seconds", [("plugin", plugin)], latency)
        }

        counter(&out, "qmpfleet_events_emitted_total", "QMP events VMs emitted (after throttling).", snapshot.eventsEmitted)
        counter(&out, "qmpfleet_events_sent_total", "QMP events queued to clients (one per event and client).", snapshot.eventsSent)
        counter(&out, "qmpfleet_received_bytes_total", "Bytes read from VMs' QMP clients.", snapshot.bytesIn)
        counter(&out, "qmpfleet_sent_bytes_total", "Bytes queued to VMs' QMP clients.", snapshot.bytesOut)
        counter(&out, "qmpfleet_faults_fired_total", "Injected faults that fired.", snapshot.faultsFired)
        family(&out, "qmpfleet_loops", "gauge", "Loop threads that answered this scrape.")
        sample(&out, "qmpfleet_loops", [], String(snapshot.loops))
        return out
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private static func counter(_ out: inout String, _ name: String, _ help: String, _ value: UInt64) {
        family(&out, name, "counter", help)
        sample(&out, name, [], String(value))
    }

    private static func histogram(_ out: inout String, _ name: String, _ labels: [(String, String)], _ histogram: LatencyHistogram) {
        var cumulative: UInt64 = 0
        for (index, bound) in LatencyHistogram.boundsNanoseconds.enumerated() {
            cumulative &+= histogram.buckets[index]
            sample(&out, name + "_bucket", labels + [("le", seconds(bound))], String(cumulative))
        }
        sample(&out, name + "_bucket", labels + [("le", "+Inf")], String(histogram.count))
        sample(&out, name + "_sum", labels, seconds(histogram.sumNanoseconds))
        sample(&out, name + "_count", labels, String(histogram.count))
    }

    private static func sample(_ out: inout String, _ name: String, _ labels: [(String, String)], _ value: String) {
        out += name
        if !labels.isEmpty {
            out += "{"
            out += labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
            out += "}"
        }
        out += " \(value)\n"
    }

    /// Nanoseconds as decimal seconds, exactly (no floating-point noise in bucket labels).
    static func seconds(_ nanoseconds: UInt64) -> String {
        let whole = nanoseconds / 1_000_000_000
        var fraction = String(nanoseconds % 1_000_000_000)
        guard fraction != "0" else { return String(whole) }
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    /// A label value's escapes: backslash, double quote and line feed.
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
