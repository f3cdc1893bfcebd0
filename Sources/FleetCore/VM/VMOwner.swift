import Logging
import QMPServer
import QMPWire
import UVLoop

/// What a VM asks of the shard that hosts it (`Router`), and no more: the
/// VM cannot reach the shard's other VMs, its listeners, its plugin loader
/// or the fleet's other shards, so what a VM does to its surroundings is
/// this list. The shard creates and ends its VMs and outlives them (it
/// ends every VM before it goes), so a VM keeps it `unowned`.
///
/// Loop-confined: every member is used on the shard's loop thread.
protocol VMOwner: AnyObject {
    /// The shard's logger; the VM's own adds its name.
    var logger: Logger { get }
    /// The shard's loop thread; nil in-process (QMPFleetTesting).
    var loop: EventLoop? { get }
    var scheduler: any Scheduler { get }
    /// The fleet's limits (`limits:`).
    var limits: Limits { get }
    /// The version the fleet greets with and reports (`qemu-version:`).
    var qemuVersion: QEMUVersion { get }
    /// The file policy every path a client or plugin names goes through.
    var allowedFiles: AllowedFiles { get }
    /// The greeting every client gets, serialized once.
    var greeting: [UInt8] { get }
    /// What all sessions' parsers of the fleet hold.
    var parserMemory: ParserMemoryBudget { get }
    /// What the shard's VMs did, counted on its loop.
    var metrics: LoopMetrics { get }
    /// The loop that writes to a new client of `vm`, and its index among
    /// the fleet's, when another than the VM's own (`CrossLoopTransport`,
    /// `ClientWriterLoops`); nil: the VM's loop writes.
    func writerLoop(forNewClientOf vm: VM) -> (index: Int, loop: EventLoop)?
    /// A session id unique in the fleet.
    func nextSessionID() -> UInt64
    /// The device types the loaded plugins simulate: the recorded QEMU types
    /// a VM without the plugin does not offer.
    var simulatedDeviceTypes: Set<String> { get }
    /// Ends `vm` (`quit`, a guest power-off without `-no-shutdown`, a
    /// plugin's request): its clients, plugins and socket go.
    func destroyVM(_ vm: VM, afterFlush: Bool)
}

extension Router: VMOwner {
    package var limits: Limits { config.limits }
    var qemuVersion: QEMUVersion { config.qemuVersion }
    var allowedFiles: AllowedFiles { config.allowedFiles }
    var simulatedDeviceTypes: Set<String> { plugins.simulatedDeviceTypes }
}
