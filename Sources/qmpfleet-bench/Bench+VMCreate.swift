import Foundation
import SharedValues

extension Bench {
    /// `count` VMs made by pipelined `vm-create` on the control socket of a
    /// fleet that starts with none, each with the `--plugins` set: the time
    /// from the first request to the last reply, and the fleet's RSS then.
    /// The peer is one QEMU 7.2 (`-machine none`) from its start until it
    /// answers `query-status`, and its RSS. A fresh fleet per round; the
    /// medians of `rounds`.
    func vmCreate(count: Int) throws -> [Row] {
        Progress.step("vm-create: \(rounds) rounds of \(count) pipelined vm-create on a fresh fleet, and one QEMU each")
        var times: [Double] = []
        var sizes: [Double] = []
        var qemuTimes: [Double] = []
        var qemuSizes: [Double] = []
        for round in 0..<max(1, rounds) {
            let dir = "\(root)/create"
            let config = "\(root)/create.yaml"
            try """
            socket-dir: \(dir)
            loops: \(loops)
            limits: {clients-per-vm: 4096}
            templates: {bench: {plugins: \(plugins)}}
            vms: []
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let fleet = try Processes.launch(binary, ["serve", "--config", config], log: "\(root)/create.log")
            defer { Processes.stop(fleet) }
            try Processes.waitForSocket("\(dir)/fleet.qmp", timeout: fleetStartSeconds)
            let client = try BlockingClient(path: "\(dir)/fleet.qmp", timeoutSeconds: 120)
            try client.negotiate()
            let requests = Array((0..<count).map { i in
                Array(#"{"execute": "vm-create", "arguments": {"name": "c-\#(i)", "template": "bench"}}"#.utf8) + [10]
            }.joined())
            // Another thread writes while this one reads: the replies would
            // otherwise fill both sockets' buffers and stop both sides.
            let failure = Locked<String?>(nil)
            let start = DispatchTime.now().uptimeNanoseconds
            let writer = Thread { do { try client.send(requests) } catch { failure.withLock { $0 = "\(error)" } } }
            writer.start()
            let replies = try client.collectReplies(count)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if let problem = failure.withLock({ $0 }) { throw BenchError("vm-create: \(problem)") }
            guard replies.errors == 0 else { throw BenchError("vm-create: \(replies.errors) errors, the first: \(replies.firstError ?? "")") }
            times.append(seconds)
            sizes.append(Double(Processes.rss(fleet.processIdentifier)) / 1_048_576)
            // The peer in the same round.
            let socket = "\(root)/q-create.sock"
            unlink(socket)
            let t = DispatchTime.now().uptimeNanoseconds
            let qemu = try Processes.startQEMU(machine: "none", socket: socket)
            defer { Processes.stop(qemu) }
            try Processes.waitForSocket(socket)
            try BlockingClient(path: socket).negotiateAndAsk(queryStatus)
            qemuTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
            qemuSizes.append(Double(Processes.rss(qemu.processIdentifier)) / 1_048_576)
            Progress.update("rounds", done: round + 1, of: max(1, rounds))
        }
        let scenario = "\(count) VMs by pipelined vm-create"
        return [
            Row(scenario: scenario, metric: "first request until the last reply", qmpfleet: median(times), peer: "one QEMU 7.2 until query-status", peerValue: median(qemuTimes), unit: "s"),
            Row(scenario: scenario, metric: "fleet RSS then (all VMs)", qmpfleet: median(sizes), peer: "one QEMU 7.2", peerValue: median(qemuSizes), unit: "MiB"),
        ]
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
