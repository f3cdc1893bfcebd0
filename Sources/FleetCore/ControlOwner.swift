import Logging
import PluginHost
import QMPServer
import QMPWire
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// What the control socket (FleetControl's `ControlPlane`) asks of the shard
/// it lives on (`Router`, shard 0's or an unsharded fleet's), and no more, as
/// a VM asks through `VMOwner` and a proxied VM through `ProxyOwner`: its
/// loop and timers, the fleet's config, greeting, parser budget and session
/// ids, how its socket listens, the loaded plugins, the fault rules, and the
/// VMs of a shard: finding, creating and ending them. It never holds the
/// fleet's other shards: it reaches them through `onShard(owningVM:)`,
/// `onShardForNewVM` and `onEveryShard`, whose work gets that shard as a
/// `ControlOwner` on that shard's own loop. The shard makes the plane and
/// outlives it (it closes the plane before it goes), so the plane keeps it
/// `unowned`.
///
/// Loop-confined: every member is used on the shard's loop thread (a shard
/// handed to `work` on its own).
package protocol ControlOwner: AnyObject {
    var logger: Logger { get }
    /// The shard's loop; nil in-process (QMPFleetTesting): no socket then.
    var loop: EventLoop? { get }
    var scheduler: any Scheduler { get }
    /// The fleet's config: its limits, socket directory, and what a VM
    /// entry of `vm-create` or `vm-attach-monitor` is read against.
    var config: FleetConfig { get }
    /// The fleet's greeting, serialized once.
    var greeting: [UInt8] { get }
    var parserMemory: ParserMemoryBudget { get }
    /// A session id unique in the fleet.
    func nextSessionID() -> UInt64
    /// How a socket of the shard listens, with `mode` (the control socket's own).
    func listenerOptions(mode: mode_t) -> UnixListener.Options
    /// The plugins loaded in the process (`query-plugins`).
    var pluginLibraries: [PluginLibrary] { get }

    // MARK: This shard's VMs

    var vms: [String: VM] { get }
    var proxies: [String: any ProxiedVM] { get }
    /// A VM entry read as the config file's `vms:` are (templates, defaults).
    func spec(of entry: JSONObject, source: String) throws(FleetError) -> VMSpec
    /// Creates and starts a VM; nil for a proxied one (in `proxies` then).
    func createVM(_ spec: VMSpec) throws(FleetError) -> VM?
    /// Creates a VM whose name and creation place were claimed for this
    /// shard (`claimNewVM`); one that is not made gives the name back.
    func createVM(_ spec: VMSpec, claim: VMClaim?) throws(FleetError) -> VM?
    /// Gives back a name claimed for this shard whose VM will not be made.
    func releaseClaim(of name: String)
    func destroyVM(_ vm: VM, afterFlush: Bool)
    func endProxy(_ proxy: any ProxiedVM)

    // MARK: Fault rules (every shard keeps the same list)

    var faultRules: [FaultSpec] { get }
    func addFaultRule(_ spec: FaultSpec)
    func removeFaultRule(id: String) -> Bool
    func faultReport() -> [FaultReport]

    // MARK: Reaching a shard

    /// Runs `work` with the shard that owns VM `name`, on that shard's
    /// loop; `complete` gets its answer back on this loop, or `notFound`
    /// when no shard has the name. On this shard (or an unsharded fleet)
    /// at once.
    func onShard<Answer>(owningVM name: String, _ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                         notFound: @autoclosure @escaping () -> Answer, then complete: @escaping (Answer) -> Void)
    /// Runs `work` on the shard where a new VM goes (the least loaded),
    /// its answer back on this loop.
    func onShardForNewVM<Answer>(_ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                                 then complete: @escaping (Answer) -> Void)
    /// The fleet has more than this shard: a VM may be made on another loop.
    var isSharded: Bool { get }
    /// Claims `name` for a new VM on the least loaded shard, with its place
    /// in creation order, at once and in the caller's order; nil when
    /// unsharded, or the name is taken, or the fleet is full
    /// (`FleetShards.claimNewVM`).
    func claimNewVM(named name: String) -> VMClaim?
    /// Runs `work` on the shard `claim` names, its answer back on this loop.
    func onShard<Answer>(claimed claim: VMClaim, _ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                         then complete: @escaping (Answer) -> Void)
    /// `work` on every shard (this one included), each on its own loop;
    /// `done` here with the answers in shard order.
    func onEveryShard<Answer>(_ work: @escaping (any ControlOwner) -> Answer, then done: @escaping ([Answer]) -> Void)
    /// `work` on every shard but this one, then `done` here.
    func onOtherShards(_ work: @escaping (any ControlOwner) -> Void, then done: @escaping () -> Void)
}

extension Router: ControlOwner {
    package var pluginLibraries: [PluginLibrary] { plugins.libraries }

    package func onShard<Answer>(owningVM name: String, _ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                                 notFound: @autoclosure @escaping () -> Answer, then complete: @escaping (Answer) -> Void) {
        guard let shards else { return work(self, complete) }
        guard let index = shards.directory.shard(of: name) else { return complete(notFound()) }
        run(onShard: index, work, then: complete)
    }

    package func onShardForNewVM<Answer>(_ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                                         then complete: @escaping (Answer) -> Void) {
        guard let shards else { return work(self, complete) }
        run(onShard: shards.directory.leastLoaded(), work, then: complete)
    }

    /// `work` on shard `index`, its answer back on this loop; at once when
    /// that shard is this one (handing work to its own loop cost two
    /// wake-ups and a loop turn per request: 10,000 pipelined `vm-create`s,
    /// a reply `sendmsg` each).
    private func run<Answer>(onShard index: Int, _ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                             then complete: @escaping (Answer) -> Void) {
        guard let shards, index != shardIndex else { return work(self, complete) }
        shards.call(shard: index, from: shardIndex, { router, done in work(router, done) }, then: complete)
    }

    package var isSharded: Bool { shards != nil }

    package func claimNewVM(named name: String) -> VMClaim? {
        shards?.claimNewVM(named: name)
    }

    package func onShard<Answer>(claimed claim: VMClaim, _ work: @escaping (any ControlOwner, @escaping (Answer) -> Void) -> Void,
                                 then complete: @escaping (Answer) -> Void) {
        run(onShard: claim.shard, work, then: complete)
    }

    package func onEveryShard<Answer>(_ work: @escaping (any ControlOwner) -> Answer, then done: @escaping ([Answer]) -> Void) {
        guard let shards else { return done([work(self)]) }
        shards.gather(on: shardIndex, { work($0) }, then: done)
    }

    package func onOtherShards(_ work: @escaping (any ControlOwner) -> Void, then done: @escaping () -> Void) {
        guard let shards else { return done() }
        let home = shardIndex
        shards.gather(on: home, { router in if router.shardIndex != home { work(router) } }, then: { _ in done() })
    }
}
