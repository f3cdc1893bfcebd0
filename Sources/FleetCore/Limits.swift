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
    /// Clients attached to one VM at once; further connections are closed at once.
    public var clientsPerVM: Int = 256
    /// VMs in one fleet.
    public var vmsPerFleet: Int = 20_000
    /// File descriptors one client may have passed and not yet consumed.
    public var fdsPerSession: Int = 64
    /// How long a plugin may leave a command unanswered before the client
    /// gets a GenericError and the session moves on.
    public var pluginReplyTimeoutMilliseconds: UInt64 = 30_000
    /// Longest VM name (bytes).
    public var vmNameBytes: Int = 64
    /// Fault rules in one fleet (config `faults:` and `fault-add` together).
    public var faultsPerFleet: Int = 1024

    public init() {}
}
