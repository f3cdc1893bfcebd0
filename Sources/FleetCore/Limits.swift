import QMPServer
import QMPWire

/// Every bound the fleet enforces, with its default, in one place.
///
/// Each has a config key under `limits:` in fleet.yaml (the property name in
/// kebab-case, e.g. `session-output-bytes`). A limit is a promise that one
/// misbehaving client or plugin cannot take more than its share.
public struct Limits: Sendable, Equatable {
    /// JSON parser limits per message (QEMU's json-streamer values).
    public var json: JSONLimits = .qemu
    /// Bytes queued to one client before it is disconnected as a slow reader.
    public var sessionOutputBytes: Int = 8 << 20
    /// Requests parsed but not yet answered for one client. Past it the
    /// session stops reading its socket until one completes, as QEMU's
    /// monitor suspends itself (QMP_REQ_QUEUE_LEN_MAX is 8 there).
    public var pendingCommandsPerSession: Int = 8
    /// Clients attached to one VM at once (simulated or proxied); further
    /// connections are closed at once.
    public var clientsPerVM: Int = 256
    /// Clients of one VM whose output the VM's own loop writes. Each client
    /// past these has its writes (replies and events, in order) made by
    /// the loop that writes the fewest of the VM's clients, the VM's own
    /// among them (`ClientWriterLoops`), while its
    /// session stays on the VM's loop: one event to 1,000 clients then
    /// costs each of two loops half the sends (`CrossLoopTransport`). Such
    /// a client holds one more descriptor (the writer's duplicate). With
    /// one loop, or 0 here meaning every client, see docs/security.md.
    public var clientsWrittenByVMLoop: Int = 64
    /// Commands of one proxied VM sent to its upstream QEMU and not yet
    /// answered (the one in flight and those waiting behind it). Each holds
    /// its client's session until answered, and an upstream that stops
    /// answering would otherwise let clients that send one command and
    /// disconnect grow memory without bound; past it a command gets a
    /// GenericError at once (QEMU has no proxy, so no equivalent).
    public var proxyQueuedCommands: Int = 1024
    /// Clients attached to the control socket at once; further connections
    /// are closed at once, so a loop of connects cannot take every fd. An
    /// emulator's session owning a handed-over VM does not count.
    public var controlClients: Int = 64
    /// Requests of one control client in flight at once: a `vm-create`
    /// starts while earlier ones are still being made on other loops, so
    /// both loops work (FleetControl's `ControlPlane+Alongside.swift`).
    /// Replies keep request order; 1 runs them one at a time, as QEMU's
    /// monitor. Each in flight holds its request and reply until those
    /// before it are answered.
    public var controlRequestsInFlight: Int = 64
    /// The largest `control-requests-in-flight` the config may set.
    public static let maxControlRequestsInFlight = 4096
    /// VMs in one fleet.
    public var vmsPerFleet: Int = 20_000
    /// File descriptors one client may have passed and not yet consumed.
    public var fdsPerSession: Int = 64
    /// Descriptors one VM keeps from `getfd` and `add-fd` together: past it
    /// both are refused, so one client passing an fd again and again cannot
    /// use up the process's descriptors (QEMU 7.2 has no such bound).
    public var fdsPerVM: Int = 256
    /// QOM objects one VM's clients may have made (`object-add`, those a
    /// plugin is still completing included): past it `object-add` is
    /// refused. Each object costs memory and some hold a descriptor (an
    /// `rng-random`'s /dev/urandom, opened anywhere), so without a bound
    /// one client could use up the process's descriptors and every VM's
    /// opens and accepts would fail (QEMU 7.2 has no such bound).
    public var objectsPerVM: Int = 1024
    /// Devices one VM's clients may have added with `device_add` (those a
    /// plugin is still realizing included; the configured ones count but
    /// are never refused): past it `device_add` is refused before the
    /// plugin is asked. A PCI device needs a slot of the root bus and a CPU
    /// one of `maxcpus`, but a device on another bus (a virtserialport, a
    /// scsi-hd) needs nothing the board runs out of, so without a bound
    /// one client could make its VM, and the process, hold unbounded
    /// memory (QEMU 7.2 has no such bound).
    public var devicesPerVM: Int = 1024
    /// How long a plugin may leave a command unanswered before the client
    /// gets a GenericError and the session moves on.
    public var pluginReplyTimeoutMilliseconds: UInt64 = 30_000
    /// Longest VM name (bytes).
    public var vmNameBytes: Int = 64
    /// Fault rules in one fleet (config `faults:` and `fault-add` together).
    public var faultsPerFleet: Int = 1024
    /// Commands (with their replies) a VM keeps for the fleet page's view of
    /// it, newest last; 0 keeps none. Measured: 8 small records cost a VM
    /// about 3 KiB; a large reply is kept as its cut text (`pageTextBytes`).
    public var commandHistoryPerVM: Int = 8
    /// Clients of the metrics/page HTTP listener at once; further
    /// connections are closed at once.
    public var httpClients: Int = 32
    /// Bytes of one HTTP request's line and headers; past it the client
    /// gets 431 and the connection closes.
    public var httpHeaderBytes: Int = 8192
    /// Time an HTTP client has to send its whole request head before the
    /// connection is closed (a slow or silent client holds nothing longer).
    public var httpRequestTimeoutMilliseconds: UInt64 = 5_000
    /// Bytes queued to one HTTP client (a page's event stream that is not
    /// read) before it is disconnected.
    public var httpOutputBytes: Int = 4 << 20
    /// VMs the fleet page lists (in creation order); the rest are counted.
    public var pageVMs: Int = 500
    /// Bytes of one request's or reply's text the fleet page shows; longer
    /// ones (`query-qmp-schema`) are cut there, marked with an ellipsis.
    public var pageTextBytes: Int = 2048
    /// How long output queued to a client may wait with no byte taken
    /// before the client is disconnected as not reading. Progress, not
    /// size, decides: a client that reads its 10 MiB reply slowly is kept
    /// (QEMU keeps it); one that stops reading is not.
    public var sessionOutputStallMilliseconds: UInt64 = 10_000
    /// How long a file transfer to or from a descriptor that is not a
    /// regular file (a pipe a client passed with getfd/add-fd, a socket, a
    /// device) may move no byte before the command fails with EAGAIN.
    /// QEMU would wait for ever, blocking its main loop; the fleet waits on
    /// the loop without blocking it (`DescriptorTransfer`), this long.
    public var fdStallMilliseconds: UInt64 = 10_000
    /// Jobs one VM may have on libuv's thread pool at once (regular-file
    /// work: writes, ftruncate, reads); the rest wait in order. The pool's
    /// 4 threads serve every VM, so one VM's burst of screendumps, or
    /// files on a filesystem that hangs, leave the others a thread.
    public var poolJobsPerVM: Int = 2
    /// How long a closing client (it half-closed, or `quit`) may take to
    /// read its last replies before its connection closes anyway.
    public var finalFlushMilliseconds: UInt64 = 5_000
    /// How long a client may stay connected without completing
    /// `qmp_capabilities` (an idle connection holds a descriptor and a slot
    /// of `clients-per-vm`).
    public var negotiationTimeoutMilliseconds: UInt64 = 30_000
    /// Bytes of incomplete messages all parsers of the process may hold
    /// together (each holds the partial value parsed so far and the token
    /// being lexed, `JSONStreamParser.pendingByteCount`; a message may have
    /// `max-token-bytes` of tokens): past it, the
    /// session that would pass it gets QEMU's "JSON token size limit
    /// exceeded" for the message it was sending.
    public var parserBytesPerFleet: Int = 256 << 20
    /// How long one session may run its queued commands in one loop turn
    /// before the rest waits for the next turn, after the other clients'
    /// I/O (QEMU's monitor dispatches one request per main-loop turn). A
    /// client that pipelines slow commands (50 `query-qmp-schema`, 70 ms
    /// each in a debug build) otherwise holds the loop thread, and every VM
    /// on it, for seconds; a bystander now waits about one turn.
    public var sessionTurnMicroseconds: UInt64 = 1_000

    public init() {}

    /// What a client's session keeps of these.
    public var session: SessionLimits {
        SessionLimits(json: json, sessionOutputBytes: sessionOutputBytes, pendingCommandsPerSession: pendingCommandsPerSession,
                      fdsPerSession: fdsPerSession, sessionOutputStallMilliseconds: sessionOutputStallMilliseconds,
                      finalFlushMilliseconds: finalFlushMilliseconds, negotiationTimeoutMilliseconds: negotiationTimeoutMilliseconds,
                      parserBytesPerFleet: parserBytesPerFleet, sessionTurnMicroseconds: sessionTurnMicroseconds)
    }
}
