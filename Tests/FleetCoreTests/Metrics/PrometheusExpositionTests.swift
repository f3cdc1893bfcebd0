@testable import FleetCore
import QMPWire
import Testing

@Suite struct PrometheusExpositionTests {
    @Test func histogramBucketsAreCumulativeWithExactBounds() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: 10_000)       // 10 µs: first bucket
        histogram.record(nanoseconds: 25_000)       // on the bound: still the first
        histogram.record(nanoseconds: 300_000)      // 300 µs: le 0.0005
        histogram.record(nanoseconds: 20_000_000_000) // over every bound
        var snapshot = MetricsSnapshot()
        snapshot.commands["query-status"] = .init(outcomes: [3, 1, 0, 0, 0, 0], latency: histogram)
        let text = PrometheusExposition.render(snapshot)
        #expect(text.contains("qmpfleet_commands_total{command=\"query-status\",outcome=\"ok\"} 3\n"))
        #expect(text.contains("qmpfleet_commands_total{command=\"query-status\",outcome=\"GenericError\"} 1\n"))
        #expect(!text.contains("outcome=\"CommandNotFound\""))
        #expect(text.contains("qmpfleet_command_duration_seconds_bucket{command=\"query-status\",le=\"0.000025\"} 2\n"))
        #expect(text.contains("qmpfleet_command_duration_seconds_bucket{command=\"query-status\",le=\"0.00025\"} 2\n"))
        #expect(text.contains("qmpfleet_command_duration_seconds_bucket{command=\"query-status\",le=\"0.0005\"} 3\n"))
        #expect(text.contains("qmpfleet_command_duration_seconds_bucket{command=\"query-status\",le=\"10\"} 3\n"))
        #expect(text.contains("qmpfleet_command_duration_seconds_bucket{command=\"query-status\",le=\"+Inf\"} 4\n"))
        #expect(text.contains("qmpfleet_command_duration_seconds_sum{command=\"query-status\"} 20.000335\n"))
        #expect(text.contains("qmpfleet_command_duration_seconds_count{command=\"query-status\"} 4\n"))
        #expect(text.contains("# TYPE qmpfleet_command_duration_seconds histogram\n"))
    }

    @Test func everyLineIsACommentOrASample() {
        var snapshot = MetricsSnapshot()
        snapshot.vmsByState = ["running": 2, "paused": 1]
        snapshot.clients = 5
        snapshot.faultsFired = 7
        snapshot.pluginReplies["block"] = LatencyHistogram()
        let text = PrometheusExposition.render(snapshot)
        #expect(text.hasSuffix("\n"))
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            // name{labels} value, the value a number.
            let parts = line.split(separator: " ")
            #expect(parts.count == 2, "\(line)")
            #expect(parts.last.map { Double($0) != nil } == true, "\(line)")
            #expect(parts[0].hasPrefix("qmpfleet_"), "\(line)")
        }
        #expect(text.contains("qmpfleet_vms{state=\"running\"} 2\n"))
        #expect(text.contains("qmpfleet_vms{state=\"paused\"} 1\n"))
        #expect(text.contains("qmpfleet_vms{state=\"shutdown\"} 0\n"))
        #expect(text.contains("qmpfleet_clients 5\n"))
        #expect(text.contains("qmpfleet_faults_fired_total 7\n"))
        #expect(text.contains("qmpfleet_plugin_reply_seconds_count{plugin=\"block\"} 0\n"))
    }

    @Test func labelValuesAreEscaped() {
        #expect(PrometheusExposition.escape("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
        #expect(PrometheusExposition.seconds(1_500_000_000) == "1.5")
        #expect(PrometheusExposition.seconds(0) == "0")
        #expect(PrometheusExposition.seconds(25_000) == "0.000025")
    }

    @Test func loopsAddUp() {
        let metrics = LoopMetrics()
        metrics.commandAnswered("stop", .success(.object([:])), nanoseconds: 1000)
        metrics.commandAnswered("stop", .failure(.generic("no")), nanoseconds: 2000)
        metrics.bytesIn = 10
        var total = MetricsSnapshot(metrics)
        total.vmsByState["running"] = 1
        var other = MetricsSnapshot(metrics)
        other.vmsByState["running"] = 2
        total.add(other)
        #expect(total.commands["stop"]?.outcomes == [2, 2, 0, 0, 0, 0])
        #expect(total.commands["stop"]?.latency.count == 4)
        #expect(total.commands["stop"]?.latency.sumNanoseconds == 6000)
        #expect(total.bytesIn == 20)
        #expect(total.vmsByState["running"] == 3)
        #expect(total.loops == 2)
    }

    /// Each plugin instance holds its plugin's reply-time slot from its
    /// creation; a plugin that has not answered yet still has no series.
    @Test func pluginReplyTimesAreSeriesOnceAnswered() {
        let metrics = LoopMetrics()
        let block = metrics.pluginReplyTimes("block")
        #expect(metrics.pluginReplyTimes("block") === block)
        _ = metrics.pluginReplyTimes("balloon")
        block.latency.record(nanoseconds: 30_000)
        let snapshot = MetricsSnapshot(metrics)
        #expect(Array(snapshot.pluginReplies.keys) == ["block"])
        #expect(snapshot.pluginReplies["block"]?.count == 1)
    }
}
