import Foundation

extension Bench {
    /// One request carrying a large string argument, as the fleet, QEMU 7.2
    /// and two in-process peers take it: a plain Swift scan of the same
    /// bytes (the machine's speed at finding a string's end) and QMPWire's
    /// parser alone (the fleet's parser without the socket and session).
    /// Both servers answer `Parameter 'x' is unexpected` after parsing the
    /// whole message, so the reply is small and the request's size is all
    /// that is measured. Small messages: 1,000 pipelined `query-status`
    /// requests, in bytes per second, through the fleet's own per-request
    /// path in process (`InProcessPeers.fleetPathLoop`: the session's
    /// framing and request scanner, the command lookup, the cached reply
    /// appended to an output buffer), with QMPWire's naive parse → decode →
    /// write loop (`parseReplyLoop`) as its peer in the same round.
    func largeString(bytes size: Int) throws -> [Row] {
        Progress.step("large string: \(rounds) rounds of one \(size)-byte string argument to qmpfleet, QEMU, and in process")
        let (fleet, dir) = try startFleet(name: "large", vms: 1, plugins: "[]")
        defer { Processes.stop(fleet) }
        let qemuSocket = "\(root)/q-large.sock"
        unlink(qemuSocket)
        let qemu = try Processes.startQEMU(machine: "none", socket: qemuSocket)
        defer { Processes.stop(qemu) }
        try Processes.waitForSocket(qemuSocket)
        let text = [UInt8](repeating: UInt8(ascii: "a"), count: size)
        let message = Array(#"{"execute": "query-status", "arguments": {"x": ""#.utf8) + text + Array("\"}}\n".utf8)
        let fleetClient = try BlockingClient(path: "\(dir)/vm-0.qmp", timeoutSeconds: 60)
        try fleetClient.negotiate()
        let qemuClient = try BlockingClient(path: qemuSocket, timeoutSeconds: 60)
        try qemuClient.negotiate()
        func oneRequest(_ client: BlockingClient) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try client.send(message)
            let reply = try client.readReply()
            guard reply.starts(with: Array(#"{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}"#.utf8)) else {
                throw BenchError("large string: unexpected reply \(String(decoding: reply.prefix(200), as: UTF8.self))")
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let medians = try interleavedMedians(rounds: rounds, [
            // Seconds; the best of 5 on the fleet (4 ms each), one on QEMU (seconds each).
            { try (0..<5).map { _ in try oneRequest(fleetClient) }.min()! },
            { try oneRequest(qemuClient) },
            { Double(size) / InProcessPeers.plainStringScan(text) },
            { InProcessPeers.parseOnce(message) },
            { InProcessPeers.fleetPathLoop(request: queryStatus, batch: 1000) * Double(queryStatus.count) / 1e6 },
            { InProcessPeers.parseReplyLoop(request: queryStatus, batch: 1000) * Double(queryStatus.count) / 1e6 },
        ])
        let (ours, theirs, scan, parse, small, naive) = (medians[0], medians[1], medians[2], medians[3], medians[4], medians[5])
        let megabytes = Double(size) / 1e6
        let scenario = "one \(size / 1024) KiB string argument"
        return [
            Row(scenario: scenario, metric: "request until its answer", qmpfleet: ours * 1000, peer: "QEMU 7.2", peerValue: theirs * 1000, unit: "ms"),
            Row(scenario: scenario, metric: "string bytes per second", qmpfleet: megabytes / ours, peer: "plain Swift scan, in process", peerValue: megabytes / scan, unit: "MB/s"),
            Row(scenario: scenario, metric: "string bytes per second", qmpfleet: megabytes / ours, peer: "QMPWire parse alone, in process", peerValue: megabytes / parse, unit: "MB/s"),
            Row(scenario: "small messages, in process", metric: "pipelined query-status through the session's path: framing + request scanner + command lookup + cached reply",
                qmpfleet: small, peer: "naive loop: QMPWire parse → JSONValue → decode → write reply", peerValue: naive, unit: "MB/s"),
        ]
    }
}
