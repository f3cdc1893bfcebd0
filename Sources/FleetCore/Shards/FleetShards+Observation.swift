import UVLoop

/// How a thread that serves no VM (the HTTP listener's) reads the fleet:
/// each shard answers on its own loop, and the answers come back to the
/// asker's loop. No VM loop waits for the asker, and the asker never
/// touches a router.
extension FleetShards {
    /// Every loop's metrics added up, handed to `done` on `home`.
    public func collectMetrics(on home: EventLoop, then done: @escaping (MetricsSnapshot) -> Void) {
        collect(on: home, { $0.metricsSnapshot() }) { snapshots in
            var total = MetricsSnapshot()
            for snapshot in snapshots { total.add(snapshot) }
            done(total)
        }
    }

    /// The fleet's first `limit` VMs in creation order and its VM count,
    /// handed to `done` on `home`.
    public func collectVMs(on home: EventLoop, limit: Int, then done: @escaping (_ listed: [VMSummary], _ total: Int) -> Void) {
        collect(on: home, { $0.vmSummaries(limit: limit) }) { answers in
            let listed = answers.flatMap(\.listed).sorted { $0.sequence < $1.sequence }.prefix(limit)
            done(Array(listed), answers.reduce(0) { $0 + $1.total })
        }
    }

    /// Starts watching VM `name`: `watcher` gets its activity on `home`,
    /// and `started` gets the VM's summary and command history then (nil
    /// when no such VM exists). `token` names the watch for `stopWatching`.
    public func watchVM(named name: String, token: UInt64, on home: EventLoop,
                        _ watcher: @escaping (VMActivity) -> Void,
                        started: @escaping ((summary: VMSummary, history: [String])?) -> Void) {
        guard let shard = directory.shard(of: name) else {
            started(nil)
            return
        }
        let watcher = LoopConfined(watcher)
        let started = LoopConfined(started)
        run(on: shard) { router in
            guard let vm = router.vms[name] else {
                home.execute { started.value(nil) }
                return
            }
            let history = vm.watch(token) { activity in
                home.execute { watcher.value(VMActivity(activity)) }
            }
            let summary = VMSummary(name: vm.name, state: vm.runState.rawValue, clients: vm.sessions.count,
                                    plugins: vm.plugins.map(\.library.name), loop: shard, sequence: vm.creationSequence)
            home.execute { started.value((summary, history)) }
        }
    }

    /// Ends a watch `watchVM` started (any thread; a VM that ended has already forgotten it).
    public func stopWatching(vm name: String, token: UInt64) {
        guard let shard = directory.shard(of: name) else { return }
        run(on: shard) { router in router.vms[name]?.observation?.unwatch(token) }
    }

    /// Runs `work` on every shard and hands the answers, in shard order, to
    /// `done` on `home`'s loop.
    private func collect<Answer>(on home: EventLoop, _ work: @escaping (Router) -> Answer,
                                 then done: @escaping ([Answer]) -> Void) {
        let gathered = LoopConfined(Collected<Answer>(expected: loops.count, done: done))
        let work = LoopConfined(work)
        for index in loops.indices {
            run(on: index) { router in
                let answer = LoopConfined(work.value(router))
                home.execute { gathered.value.add(answer.value, at: index) }
            }
        }
    }
}

/// What a watched VM did, as the watcher's loop receives it.
public enum VMActivity: Sendable {
    /// A command answered: `{"seq", "client", "time", "ms", "request", "reply"}`.
    case command(String)
    /// An event, as the VM's clients got it.
    case event(String)
    /// The VM ended.
    case ended

    init(_ activity: VMObservation.Activity) {
        switch activity {
        case .command(let text): self = .command(text)
        case .event(let text): self = .event(text)
        case .ended: self = .ended
        }
    }
}
