import CEpoll
import Foundation
import Histogram
import SharedValues
import Synchronization

/// A flag several threads read and one sets.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// What parallel ping-pong threads hand back, each one run.
final class PingPongRuns: Sendable {
    let runs = Locked<[PingPongRun]>([])
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
    try pingPongRun(path: path, seconds: seconds).rate
}

/// One ping-pong stream: round trips, their seconds and the CPU time the
/// client's thread spent on them.
struct PingPongRun {
    var requests = 0
    var seconds = 0.0
    var clientCPUNanoseconds: UInt64 = 0
    var rate: Double { seconds > 0 ? Double(requests) / seconds : 0 }
}

/// One ping-pong stream for `seconds` on the calling thread.
func pingPongRun(path: String, seconds: Double) throws -> PingPongRun {
    let client = try BlockingClient(path: path)
    try client.negotiate()
    var count = 0
    let cpu = CPUTime.thread()
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
        for _ in 0..<100 {
            try client.send(queryStatus)
            _ = try client.readReply()
        }
        count += 100
    }
    return PingPongRun(requests: count, seconds: Date().timeIntervalSince(start), clientCPUNanoseconds: CPUTime.thread() &- cpu)
}

/// `paths.count` ping-pong streams in parallel, one thread each (one path:
/// on the calling thread); `serverCPU`, when given, reads the server's CPU
/// time (nanoseconds) before and after.
func pingPongCost(paths: [String], seconds: Double, serverCPU: (() -> UInt64)?) throws -> PingPongCost {
    let before = serverCPU?()
    let runs: [PingPongRun]
    if paths.count == 1 {
        runs = [try pingPongRun(path: paths[0], seconds: seconds)]
    } else {
        let results = PingPongRuns()
        let group = DispatchGroup()
        for path in paths {
            group.enter()
            Thread.detachNewThread {
                let run = (try? pingPongRun(path: path, seconds: seconds)) ?? PingPongRun()
                results.runs.withLock { $0.append(run) }
                group.leave()
            }
        }
        group.wait()
        runs = results.runs.withLock { $0 }
    }
    let requests = runs.reduce(0) { $0 + $1.requests }
    let perRequest = { (nanoseconds: UInt64) in requests > 0 ? Double(nanoseconds) / Double(requests) / 1000 : .nan }
    return PingPongCost(rate: runs.reduce(0) { $0 + $1.rate },
                        serverMicroseconds: before.flatMap { start in serverCPU.map { perRequest($0() &- start) } },
                        clientMicroseconds: perRequest(runs.reduce(0) { $0 &+ $1.clientCPUNanoseconds }))
}

/// The median of `rounds` measurements of each target, taken in turn
/// (A, B, C, A, B, C, ...): on a shared machine whose speed drifts over
/// seconds, interleaving keeps a drift from landing on one target only.
func interleavedMedians(rounds: Int, _ targets: [() throws -> Double]) throws -> [Double] {
    var samples = [[Double]](repeating: [], count: targets.count)
    for round in 0..<max(1, rounds) {
        for (index, measure) in targets.enumerated() { samples[index].append(try measure()) }
        Progress.update("rounds", done: round + 1, of: max(1, rounds))
    }
    return samples.map(median)
}

/// One `{"execute": NAME}` line.
func request(_ command: String) -> [UInt8] { Array(#"{"execute": "\#(command)"}"#.utf8) + [10] }

/// Requests per second when `batch` copies of `line` go in one write
/// (the best of `repeats` batches on one connection).
func pipelined(path: String, request line: [UInt8] = queryStatus, batch: Int, repeats: Int) throws -> Double {
    let client = try BlockingClient(path: path)
    try client.negotiate()
    let request = Array([[UInt8]](repeating: line, count: batch).joined())
    var best = 0.0
    for _ in 0..<repeats {
        let start = Date()
        try client.send(request)
        try client.skipReplies(batch)
        best = max(best, Double(batch) / Date().timeIntervalSince(start))
    }
    return best
}

/// The bytes of one reply to `line` without its `\r\n`; throws unless it
/// is a success (a benchmark of an error reply measures the wrong path).
func replySize(path: String, request line: [UInt8]) throws -> Int {
    let client = try BlockingClient(path: path)
    try client.negotiate()
    try client.send(line)
    let reply = try client.readReply()
    guard reply.starts(with: Array(#"{"return""#.utf8)) else {
        throw BenchError("not an answer to \(String(decoding: line.dropLast(), as: UTF8.self)): \(String(decoding: reply, as: UTF8.self))")
    }
    return reply.count - (reply.last == 10 ? 1 : 0) - (reply.dropLast().last == 13 ? 1 : 0)
}

/// Total round trips per second of `paths.count` parallel ping-pong streams.
func parallelPingPong(paths: [String], seconds: Double) throws -> Double {
    try pingPongCost(paths: paths, seconds: seconds, serverCPU: nil).rate
}

/// Fan-out times over `repeats` stop/cont pairs (microseconds): until every
/// client has the first event (STOP), and until every client has both.
struct FanOutTimes {
    var firstEvent = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var bothEvents = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
}

/// Edge-triggered epoll over the listening clients' sockets: the generator
/// learns that bytes arrived at a client without reading them, so timing
/// the first event costs it one `epoll_wait` per batch of clients, not a
/// `recv` per client. (On two cores the generator's reads would otherwise
/// be the slower half of the measurement.)
final class ArrivalWatch {
    private let epoll: Int32
    private var ready = [epoll_event](repeating: epoll_event(), count: 1024)

    init(fds: [Int32]) throws {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw BenchError("epoll_create1: \(String(cString: strerror(errno)))") }
        for (index, fd) in fds.enumerated() {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLET.rawValue
            event.data.u64 = UInt64(index)
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
                throw BenchError("epoll_ctl: \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit { close(epoll) }

    /// Waits up to `timeoutMilliseconds` for arrivals; calls `arrived` with
    /// the index of each client that got bytes. Returns false on a timeout.
    func wait(timeoutMilliseconds: Int32, _ arrived: (Int) -> Void) -> Bool {
        let n = epoll_wait(epoll, &ready, Int32(ready.count), timeoutMilliseconds)
        if n <= 0 { return n < 0 && errno == EINTR }
        for i in 0..<Int(n) { arrived(Int(ready[i].data.u64)) }
        return true
    }
}

/// One stop/cont pair per repeat from a controlling client, while `clients`
/// others wait for the events. The first event is timed by arrival alone
/// (`ArrivalWatch`); then every client's bytes are read and counted until
/// each has both events, which is the second figure.
func fanOutTimes(path: String, clients count: Int, repeats: Int) throws -> FanOutTimes {
    var clients: [BlockingClient] = []
    for _ in 0..<count {
        let c = try BlockingClient(path: path)
        try c.negotiate()
        clients.append(c)
    }
    let controller = try BlockingClient(path: path)
    try controller.negotiate()
    let watch = try ArrivalWatch(fds: clients.map(\.fd))
    var times = FanOutTimes()
    var arrived = [Bool](repeating: false, count: count)
    var seen = [Int](repeating: 0, count: count)
    let pair = Array((#"{"execute": "stop"}"# + "\n" + #"{"execute": "cont"}"# + "\n").utf8)
    for repeatIndex in 0..<repeats {
        Progress.update("pairs", done: repeatIndex + 1, of: repeats)
        for i in 0..<count { arrived[i] = false; seen[i] = 0 }
        var haveArrived = 0
        var haveBoth = 0
        let start = DispatchTime.now().uptimeNanoseconds
        try controller.send(pair)
        while haveArrived < count {
            guard watch.wait(timeoutMilliseconds: 5000, { i in
                if !arrived[i] { arrived[i] = true; haveArrived += 1 }
            }) else { throw BenchError("fan-out: the first event did not arrive") }
        }
        times.firstEvent.record((DispatchTime.now().uptimeNanoseconds - start) / 1000)
        // Each client's first bytes are its STOP; now read and count.
        func readEvents(_ i: Int) {
            guard seen[i] < 2 else { return }
            seen[i] += clients[i].countArrivedEvents()
            if seen[i] >= 2 { haveBoth += 1 }
        }
        for i in 0..<count { readEvents(i) }
        while haveBoth < count {
            guard watch.wait(timeoutMilliseconds: 5000, readEvents) else { throw BenchError("fan-out: the second event did not arrive") }
        }
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
