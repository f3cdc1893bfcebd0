import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// One command being run: its request, its checked arguments once the schema
/// check passed, the client it came from, and the file descriptors that
/// client passed with it (SCM_RIGHTS).
///
/// Descriptors not taken by the handler are closed when the call ends, so an
/// fd sent with a command that takes none is not leaked.
public final class CommandCall {
    public let request: QMPRequest
    /// The arguments as the schema check returned them (`request`'s until then).
    public package(set) var arguments: JSONObject {
        get { checkedArguments }
        set { checkedArguments = newValue }
    }
    /// The client. Held strongly: a call lives until it is answered (a
    /// plugin's pending request at most until its timeout; a proxied VM's
    /// command while its upstream QEMU answers, with no timeout, the calls
    /// waiting for it bounded by `limits.proxy-queued-commands`), and a weak
    /// reference here was made, loaded and destroyed per command (about
    /// 3 % of a pipelined `query-status`, docs/performance.md). A session
    /// that closed meanwhile ignores the answer.
    public let session: Session?
    /// CLOCK_MONOTONIC when the session took the request from its queue
    /// (its turn's clock reading, so timing a command costs one more read,
    /// not two); 0 for a call made without a session.
    package var started: UInt64 {
        get { startedReading }
        set { startedReading = newValue }
    }
    /// CLOCK_MONOTONIC when its host answered it (the reading that timed
    /// it), 0 until then or when the host took none: the session's next
    /// step starts from it instead of reading the clock again.
    package var answered: UInt64 {
        get { answeredReading }
        set { answeredReading = newValue }
    }
    /// Where its host counts this command (FleetCore's `CommandSlots`),
    /// set when the host's table found it; -1 until then.
    package var metricsSlot: Int {
        get { slot }
        set { slot = newValue }
    }
    // The storage of `arguments` and the three above. Another module's
    // access to a stored property does not see `@exclusivity(unchecked)`
    // and checks each access dynamically (`swift_beginAccess` in
    // PluginHost's and FleetCore's code, per command); accessors compiled
    // here do not.
    @exclusivity(unchecked) private var checkedArguments: JSONObject
    @exclusivity(unchecked) private var startedReading: UInt64 = 0
    @exclusivity(unchecked) private var answeredReading: UInt64 = 0
    @exclusivity(unchecked) private var slot = -1
    @exclusivity(unchecked) private var fileDescriptors: [Int32]
    /// Set by a `drop-reply` fault: the command runs, its reply is not sent.
    @exclusivity(unchecked) package var isReplyDropped = false
    /// The session took the first completion; any later one is ignored. A
    /// field of the call rather than a `var` its closure captures: a
    /// captured `var` is a heap box per command, with a dynamic
    /// exclusivity check on every access.
    @exclusivity(unchecked) var isAnswered = false

    package init(request: QMPRequest, session: Session?, fileDescriptors: [Int32]) {
        self.request = request
        self.checkedArguments = request.arguments ?? JSONObject()
        self.session = session
        self.fileDescriptors = fileDescriptors
    }

    public var name: String { request.execute }

    /// Takes ownership of the first descriptor passed with this command.
    public func takeFileDescriptor() -> Int32? {
        fileDescriptors.isEmpty ? nil : fileDescriptors.removeFirst()
    }

    /// Closes what no handler took.
    func closeUnusedFileDescriptors() {
        for fd in fileDescriptors { Glibc.close(fd) }
        fileDescriptors.removeAll()
    }

    deinit { closeUnusedFileDescriptors() }
}
