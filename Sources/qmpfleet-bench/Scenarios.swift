import Foundation
import UVLoop
import Histogram
import Synchronization

/// A flag several threads read and one sets.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Per-thread result slots: each thread writes only its own index.
struct ResultSlots: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
}

/// One row of the results table: a scenario, our figure, the peer's, and their ratio.
struct Row: Codable {
    var scenario: String
    var metric: String
    var qmpfleet: Double
    var peer: String
    var peerValue: Double?
    var unit: String

    var ratio: Double? {
        guard let peerValue, peerValue > 0 else { return nil }
        return qmpfleet / peerValue
    }
}

let queryStatus = Array(#"{"execute": "query-status"}"#.utf8) + [10]

/// Round trips per second of one ping-pong stream for `seconds`.
func pingPong(path: String, seconds: Double) throws -> Double {
    let client = try BlockingClient(path: path)
    try client.negotiate()
    var count = 0
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
        for _ in 0..<100 {
            try client.send(queryStatus)
            _ = try client.readReply()
        }
        count += 100
    }
    return Double(count) / Date().timeIntervalSince(start)
}

/// Requests per second when `batch` requests go in one write.
func pipelined(path: String, batch: Int, repeats: Int) throws -> Double {
    let client = try BlockingClient(path: path)
    try client.negotiate()
    let request = Array([[UInt8]](repeating: queryStatus, count: batch).joined())
    var best = 0.0
    for _ in 0..<repeats {
        let start = Date()
        try client.send(request)
        for _ in 0..<batch { _ = try client.readReply() }
        best = max(best, Double(batch) / Date().timeIntervalSince(start))
    }
    return best
}

/// Total round trips per second of `paths.count` parallel ping-pong streams.
func parallelPingPong(paths: [String], seconds: Double) throws -> Double {
    let results = ResultSlots(buffer: .allocate(capacity: paths.count))
    results.buffer.initialize(repeating: 0)
    defer { results.buffer.deallocate() }
    let group = DispatchGroup()
    for (i, path) in paths.enumerated() {
        group.enter()
        Thread.detachNewThread {
            results.buffer[i] = (try? pingPong(path: path, seconds: seconds)) ?? 0
            group.leave()
        }
    }
    group.wait()
    return results.buffer.reduce(0, +)
}

/// Fan-out times over `repeats` stop/cont pairs (microseconds): until every
/// client has the first event (STOP), and until every client has both.
struct FanOutTimes {
    var firstEvent = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var bothEvents = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
}

/// One stop/cont pair per repeat from a controlling client, while `clients`
/// others wait for the events.
func fanOutTimes(path: String, clients count: Int, repeats: Int) throws -> FanOutTimes {
    var clients: [BlockingClient] = []
    for _ in 0..<count {
        let c = try BlockingClient(path: path)
        try c.negotiate()
        clients.append(c)
    }
    let controller = try BlockingClient(path: path)
    try controller.negotiate()
    var times = FanOutTimes()
    // Readiness from libuv (epoll), not poll(2) over every fd: the load
    // generator must not cost O(clients) per wake-up, or 1,000 clients
    // measure the generator instead of the fleet.
    let loop = try EventLoop()
    var seen = [Int](repeating: 0, count: count)
    var haveFirst = 0
    var haveBoth = 0
    var start: UInt64 = 0
    var firstDone: UInt64 = 0
    var watchers: [FDWatcher] = []
    for (i, client) in clients.enumerated() {
        let watcher = try FDWatcher(loop: loop, fd: client.fd) { _, _ in
            let before = seen[i]
            seen[i] += client.countArrivedEvents()
            if before < 1 && seen[i] >= 1 {
                haveFirst += 1
                if haveFirst == count { firstDone = DispatchTime.now().uptimeNanoseconds }
            }
            if before < 2 && seen[i] >= 2 { haveBoth += 1 }
        }
        watcher.watch(.readable)
        watchers.append(watcher)
    }
    defer { loop.stop() }
    let timeout = LoopTimer(loop: loop)
    for _ in 0..<repeats {
        for i in seen.indices { seen[i] = 0 }
        haveFirst = 0
        haveBoth = 0
        var timedOut = false
        start = DispatchTime.now().uptimeNanoseconds
        try controller.send(#"{"execute": "stop"}"# + "\n" + #"{"execute": "cont"}"# + "\n")
        timeout.start(afterMilliseconds: 5000) { timedOut = true }
        while haveBoth < count && !timedOut { loop.runOnce() }
        timeout.stop()
        guard haveBoth == count else { throw BenchError("fan-out: events did not arrive") }
        times.firstEvent.record((firstDone - start) / 1000)
        times.bothEvents.record((DispatchTime.now().uptimeNanoseconds - start) / 1000)
        _ = try controller.readReply()
        _ = try controller.readReply()
        _ = controller.drainAvailable()
    }
    return times
}

/// Round-trip latency of one client (microseconds) while `listeners` other
/// clients receive a steady event stream (a stop/cont loop by another client).
func latencyUnderEvents(path: String, listeners count: Int, samples: Int) throws -> Histogram<UInt64> {
    var clients: [BlockingClient] = []
    for _ in 0..<count {
        let c = try BlockingClient(path: path)
        try c.negotiate()
        clients.append(c)
    }
    let stopFlag = StopFlag()
    let drained = DispatchGroup()
    drained.enter()
    let listeners = clients
    Thread.detachNewThread {
        var fds = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while !stopFlag.isSet {
            if poll(&fds, nfds_t(fds.count), 50) > 0 {
                for i in fds.indices where fds[i].revents != 0 { _ = listeners[i].drainAvailable(); fds[i].revents = 0 }
            }
        }
        drained.leave()
    }
    drained.enter()
    Thread.detachNewThread {
        guard let generator = try? BlockingClient(path: path), (try? generator.negotiate()) != nil else { drained.leave(); return }
        while !stopFlag.isSet {
            _ = try? generator.send(#"{"execute": "stop"}"# + "\n" + #"{"execute": "cont"}"# + "\n")
            _ = try? generator.readReply()
            _ = try? generator.readReply()
            usleep(1000)
        }
        drained.leave()
    }
    let probe = try BlockingClient(path: path)
    try probe.negotiate()
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    for _ in 0..<samples {
        let start = DispatchTime.now().uptimeNanoseconds
        try probe.send(queryStatus)
        _ = try probe.readReply()
        histogram.record((DispatchTime.now().uptimeNanoseconds - start) / 1000)
    }
    stopFlag.set()
    drained.wait()
    return histogram
}
