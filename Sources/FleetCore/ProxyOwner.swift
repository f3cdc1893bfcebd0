import Glibc
import Logging
import QAPISchema
import QMPServer
import UVLoop

/// What a proxied VM (the Proxy module's `ProxyVM`) asks of the shard that
/// hosts it (`Router`), and no more, as a simulated VM asks through
/// `VMOwner`: its loop and timers, the fleet's greeting, limits, parser
/// budget and session ids, and where and how its socket listens. It cannot
/// reach the shard's VMs, plugins or other shards. The shard makes and ends
/// its proxies and outlives them, so a proxy keeps it `unowned`.
///
/// Loop-confined: every member is used on the shard's loop thread.
package protocol ProxyOwner: AnyObject {
    var logger: Logger { get }
    /// The shard's loop; a proxy needs one (nil in-process).
    var loop: EventLoop? { get }
    var scheduler: any Scheduler { get }
    /// The fleet's limits (`limits:`): clients per VM, a session's bounds.
    var limits: Limits { get }
    /// The fleet's greeting, for a client that attaches before the
    /// upstream QEMU greeted.
    var greeting: [UInt8] { get }
    var parserMemory: ParserMemoryBudget { get }
    /// A session id unique in the fleet.
    func nextSessionID() -> UInt64
    /// Where VM sockets go (`socket-dir`).
    var socketDirectory: String { get }
    /// How a VM socket listens (`socket-mode`, the listen backlog).
    var vmListenerOptions: UnixListener.Options { get }
    /// The core schema, against which `qmp_capabilities` is checked.
    var coreSchemaView: SchemaView? { get }
}

extension Router: ProxyOwner {
    package var socketDirectory: String { config.socketDirectory }
    package var vmListenerOptions: UnixListener.Options { listenerOptions(mode: config.socketMode) }
}
