import Foundation
import Logging
import PluginHost
import Synchronization
import UVLoop

/// A fleet spread over several loop threads: one router per loop, each VM
/// on exactly one of them.
///
/// ARCHITECTURE.md's threading rule is kept whole: everything about a VM (its
/// sessions, plugins, timers, events) happens on its router's loop, so VM
/// and plugin state still need no locks. What crosses loops is small and
/// explicit: the name directory (`ShardDirectory`), the shared counters
/// (`FleetCounters`), the plugin loader (locked, each library loaded once
/// per process), and work handed to a loop with `EventLoop.execute`, which
/// is how the control socket (served by shard 0) reaches a VM on another
/// shard.
///
/// Shard 0 runs on the thread that calls `run()`; it also owns the control
/// socket and, in `qmpfleet serve`, the signal watchers.
public final class FleetShards: @unchecked Sendable {
    /// Loops a fleet uses at most, whatever the core count.
    public static let maxLoops = 64

    /// The fleet's config, without its VM list (`vmsToStart`).
    public let config: FleetConfig
    /// The config's VMs until `start()` has made them, then let go: every
    /// VM keeps its own spec, and the list was a spec's worth (about 300
    /// bytes) of every VM of the config for good (3 MB of 10,000 VMs).
    private var vmsToStart: [VMSpec]
    private let logger: Logger
    /// One per shard; `loops[i]` runs `routers[i]`.
    public let loops: [EventLoop]
    /// `routers[i]` is touched only on `loops[i]`'s thread; that promise is
    /// why the type can be `@unchecked Sendable`.
    private let routers: [Router]
    package let directory: ShardDirectory
    let counters = FleetCounters()
    private let threadsFinished = DispatchGroup()
    private let shardsStarting: Atomic<Int>
    private let startTime = DispatchTime.now()

    /// One loop per online CPU, at most `maxLoops`.
    public static var defaultLoopCount: Int {
        min(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))), maxLoops)
    }

    /// - Parameters:
    ///   - loopCount: shards (threads); clamped to 1...`maxLoops`.
    ///   - frontEnds: handed to every shard's router.
    public init(config: FleetConfig, logger: Logger, loops loopCount: Int, frontEnds: FleetFrontEnds = FleetFrontEnds()) throws {
        let count = min(max(1, loopCount), Self.maxLoops)
        var config = config
        vmsToStart = config.vms
        config.vms = []
        self.config = config
        self.logger = logger
        directory = ShardDirectory(shards: count, vmsPerFleet: config.limits.vmsPerFleet)
        shardsStarting = Atomic(count)
        var loops: [EventLoop] = []
        var routers: [Router] = []
        var plugins: PluginLoader?
        for _ in 0..<count {
            let loop = try EventLoop()
            let router = try Router(config: config, logger: logger, scheduler: LoopScheduler(loop: loop), loop: loop,
                                    counters: counters, plugins: plugins, frontEnds: frontEnds)
            plugins = router.plugins
            loops.append(loop)
            routers.append(router)
        }
        self.loops = loops
        self.routers = routers
        for (index, router) in routers.enumerated() {
            router.shards = self
            router.shardIndex = index
        }
    }

    /// The router of shard 0, which serves the control socket. Only for use
    /// on shard 0's thread (the one that calls `run()`).
    public var controlRouter: Router { routers[0] }

    /// Prepares the socket directory and the control socket, loads the
    /// plugins every configured VM names, then starts each shard creating
    /// its share of the config's VMs at once, shard 0 on the calling thread
    /// and the others on threads of their own. Returns when every shard's
    /// VMs are serving (their loops then run on; shard 0's in `run()`).
    /// Throws only for what stops the whole fleet (the socket directory,
    /// the control socket); a VM that cannot start is logged and skipped.
    public func start() throws(FleetError) {
        try routers[0].prepareSockets()
        var shares = [[VMSpec]](repeating: [], count: routers.count)
        let first = counters.reserveVMSequences(vmsToStart.count)
        for (position, spec) in vmsToStart.enumerated() {
            var spec = spec
            spec.creationSequence = first + position
            shares[position % routers.count].append(spec)
        }
        vmsToStart = []
        // Every library's init runs here, one at a time, before any loop
        // runs plugin code.
        for (router, share) in zip(routers, shares) { router.preloadPlugins(for: share) }
        let ready = DispatchGroup()
        for index in routers.indices.dropFirst() {
            let router = LoopConfined(routers[index])
            let share = LoopConfined(ShareToStart(shares[index]))
            threadsFinished.enter()
            ready.enter()
            let thread = Thread { [self] in
                router.value.createVMs(share.value.take())
                shardStarted()
                ready.leave()
                loops[index].runUntilStopped()
                threadsFinished.leave()
            }
            thread.name = "qmpfleet-shard-\(index)"
            thread.start()
        }
        routers[0].createVMs(shares[0])
        shardStarted()
        ready.wait()
    }

    /// A shard's VMs to make, handed to its thread, which takes them once:
    /// the thread's closure lives as long as its loop, and what it
    /// captured was held for good (half the specs of a 10,000-VM config on
    /// two loops, 1.5 MB).
    private final class ShareToStart {
        private var specs: [VMSpec]
        init(_ specs: [VMSpec]) { self.specs = specs }
        func take() -> [VMSpec] {
            defer { specs = [] }
            return specs
        }
    }

    private func shardStarted() {
        guard shardsStarting.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startTime.uptimeNanoseconds) / 1e9
        logger.info("fleet ready: \(directory.count) VMs in \(config.socketDirectory) on \(loops.count) loops (\(String(format: "%.3f", seconds)) s)")
    }

    /// Runs shard 0's loop on the calling thread, then waits for the other
    /// shards' loops to end (after `shutdown()`).
    public func run() {
        loops[0].runUntilStopped()
        threadsFinished.wait()
    }

    /// Shard 0's thread: every shard tells its clients SHUTDOWN, closes its
    /// VMs and stops its loop.
    public func shutdown() {
        // Shard 0 first, at once: its control socket closes before any other
        // shard stops, so no `vm-create` can reach a shard that has.
        routers[0].shutdown()
        for index in routers.indices.dropFirst() { run(on: index) { $0.shutdown() } }
    }

    /// Shard 0's thread (SIGHUP): brings the VM list in line with `specs`.
    /// VMs keep their shard; new ones go to the least loaded shards. `report`
    /// runs on shard 0 once every shard has done its part.
    public func reload(vms specs: [VMSpec], report: @escaping (_ added: [String], _ removed: [String], _ failed: [(String, FleetError)]) -> Void) {
        var shares = [[VMSpec]](repeating: [], count: routers.count)
        var next = directory.leastLoaded()
        // New VMs list after the others, in the order the config gives them.
        var sequence = counters.reserveVMSequences(specs.count)
        for spec in specs {
            if let owner = directory.shard(of: spec.name) {
                shares[owner].append(spec)
            } else {
                var spec = spec
                spec.creationSequence = sequence
                sequence += 1
                shares[next].append(spec)
                next = (next + 1) % routers.count
            }
        }
        // Every shard removes first, then every shard adds: a VM added on one
        // loop must not meet `vms-per-fleet` while another loop has yet to
        // remove what the new config dropped.
        let wanted = Set(specs.map(\.name))
        let shareBox = LoopConfined(shares)
        gather(on: 0, { router in router.removeVMs(notIn: wanted) }) { [self] removals in
            gather(on: 0, { router in router.addVMs(shareBox.value[router.shardIndex]) }) { additions in
                report(additions.flatMap(\.added), removals.flatMap { $0 }, additions.flatMap(\.failed))
            }
        }
    }

    // MARK: Crossing loops

    /// Runs `work` with shard `index`'s router on its loop, soon. Any thread.
    func run(on index: Int, _ work: @escaping (Router) -> Void) {
        let router = LoopConfined(routers[index])
        let work = LoopConfined(work)
        loops[index].execute { work.value(router.value) }
    }

    /// Runs `work` on shard `index`; the answer it gives (at once or later)
    /// is handed to `done` on shard `home`'s loop.
    package func call<Answer>(shard index: Int, from home: Int,
                      _ work: @escaping (Router, @escaping (Answer) -> Void) -> Void,
                      then done: @escaping (Answer) -> Void) {
        let done = LoopConfined(done)
        run(on: index) { [self] router in
            work(router) { answer in
                let answer = LoopConfined(answer)
                self.loops[home].execute { done.value(answer.value) }
            }
        }
    }

    /// Runs `work` on every shard; `done` gets the answers, in shard order,
    /// on shard `home`'s loop.
    package func gather<Answer>(on home: Int, _ work: @escaping (Router) -> Answer, then done: @escaping ([Answer]) -> Void) {
        let collected = LoopConfined(Collected<Answer>(expected: routers.count, done: done))
        for index in routers.indices {
            call(shard: index, from: home, { router, answer in answer(work(router)) }) { answer in
                collected.value.add(answer, at: index)
            }
        }
    }
}

/// Answers from every shard, gathered on one loop (a shard's or the HTTP
/// listener's): `gather` and `collect` share it.
final class Collected<Answer> {
    private var answers: [Answer?]
    private var missing: Int
    private let done: ([Answer]) -> Void

    init(expected: Int, done: @escaping ([Answer]) -> Void) {
        answers = [Answer?](repeating: nil, count: expected)
        missing = expected
        self.done = done
    }

    func add(_ answer: Answer, at index: Int) {
        answers[index] = answer
        missing -= 1
        if missing == 0 { done(answers.compactMap { $0 }) }
    }
}
