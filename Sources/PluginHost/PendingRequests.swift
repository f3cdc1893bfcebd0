import QMPPluginABI
import QMPServer
import QMPWire
import Synchronization
#if canImport(Glibc)
import Glibc
import UVLoop
#endif

/// Requests handed to plugins and not yet answered, by token: one table per
/// loop thread, used only on that thread.
///
/// The ABI's `qmp_request` is a number, never a pointer, so a plugin that
/// answers twice, answers late, or answers a request whose client left
/// cannot touch freed memory: the token is simply no longer here.
///
/// A plugin answers on its VM's loop thread (the ABI says so), and `reply`
/// carries the token alone, so the table the answer looks in is that
/// thread's own (`current`): no lock, and no table shared between loops. A
/// token's top bits are its table's number, so tokens of different threads
/// never collide: one answered on another thread than its VM's finds nothing
/// there, is ignored, and times out on its own loop.
///
/// Most plugins answer before their handler returns. Such an answer finds
/// its request on the short stack of requests whose handlers are running
/// (`running`), and nothing else is made for it. Only when a handler
/// returns without answering does the request move to `waiting` with its
/// timeout, after which the client gets a GenericError and its queue moves on.
final class PendingRequests {
    /// One request. Its fields are what no other object has: the plugin's
    /// name and reply-time histogram are the instance's, so an entry moved
    /// onto and off the running stack retains four references, not seven
    /// (their copies were 5 % of a pipelined plugin query, docs/performance.md).
    struct Entry {
        let token: qmp_request
        /// Strong: an instance cancels its entries when it ends
        /// (`cancelAll(of:)`), so none outlives it for long; a weak
        /// reference was made, copied and destroyed per request (about 5 %
        /// of a pipelined plugin query, docs/performance.md).
        let instance: PluginInstance
        let command: String
        /// The client's command this request runs (nil for a device's add,
        /// a fault's or a guest action's): its start is the request's, and
        /// the reading that times the plugin's answer is its answer's
        /// (`CommandCall.answered`), so a plugin command costs one clock read.
        let call: CommandCall?
        let started: UInt64
        let complete: (QMPReply) -> Void
        var timeout: ScheduledAction?
        /// The QOM path of the device a driver's add() creates, for
        /// `request_qom_path`; freed with the entry once it is answered.
        var qomPath: CStringBox? = nil

        var plugin: String { instance.library.name }
    }

    /// A C string that lives as long as the request holding it.
    final class CStringBox {
        let pointer: UnsafeMutablePointer<CChar>
        init(_ text: String) { pointer = strdup(text)! }
        deinit { free(pointer) }
    }

    /// Bits of a token that count requests; the bits above are the table's number.
    static let sequenceBits = 44
    private static let sequenceMask: UInt64 = (1 << UInt64(sequenceBits)) - 1

    /// Requests whose handler is running now, innermost last (a handler's
    /// answer can start the client's next request, which nests).
    /// Loop-confined, and no access is held across a plugin call, so the
    /// dynamic exclusivity checks (3 % of a pipelined plugin query) are off.
    @exclusivity(unchecked) private var running: [Entry?] = []
    /// Requests whose handler returned without answering.
    @exclusivity(unchecked) private var waiting: [UInt64: Entry] = [:]
    @exclusivity(unchecked) private var tokenBase: UInt64
    @exclusivity(unchecked) private var sequence: UInt64 = 0

    private init() {
        tokenBase = Self.newTokenBase()
        running.reserveCapacity(4)
    }

    /// Requests of this table not answered yet (tests).
    var count: Int { waiting.count + running.lazy.filter { $0 != nil }.count }

    /// Runs `body` with a new token for a request of `instance`.
    /// `complete` runs once: with the plugin's answer, or with a GenericError
    /// when it does not answer within `plugin-reply-timeout-ms` of `body`
    /// returning, or when the instance ends first.
    /// `call` is the client's command the request runs, if any: the
    /// request starts when it did (`CommandCall.started`).
    /// The timeout is started on the instance's VM's scheduler, only when
    /// `body` returned without an answer.
    func run(for instance: PluginInstance, command: String, call: CommandCall? = nil, qomPath: String? = nil,
             complete: @escaping (QMPReply) -> Void, _ body: (qmp_request) -> Void) {
        let token = nextToken()
        let started = call.map { $0.started } ?? 0
        running.append(Entry(token: token, instance: instance, command: command, call: call,
                             started: started != 0 ? started : MonotonicClock.nanoseconds(),
                             complete: complete, timeout: nil, qomPath: qomPath.map(CStringBox.init)))
        body(token)
        guard var entry = running.removeLast() else { return }
        guard let vm = instance.vm else {
            return Self.finish(entry, .failure(.generic("The VM is shutting down")))
        }
        let timeoutMilliseconds = vm.pluginReplyTimeoutMilliseconds
        entry.timeout = vm.scheduler.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            guard let entry = self?.waiting.removeValue(forKey: token) else { return }
            entry.instance.logger.warning("plugin \(entry.plugin) did not answer \(entry.command) within \(timeoutMilliseconds) ms")
            Self.finish(entry, .failure(.generic("Plugin '\(entry.plugin)' did not answer '\(entry.command)' in time")))
        }
        waiting[token] = entry
    }

    /// Removes and returns the entry; nil when the token is unknown, was
    /// already answered, or belongs to another thread's table (the caller
    /// logs that as a plugin bug).
    func take(_ token: qmp_request) -> Entry? {
        var index = running.endIndex
        while index > running.startIndex {
            index -= 1
            if running[index]?.token == token {
                // Moved out, not copied: no retain and release of its references.
                return running[index].take()
            }
        }
        guard let entry = waiting.removeValue(forKey: token) else { return nil }
        entry.timeout?.cancel()
        return entry
    }

    /// True while `token` waits for its answer on this thread (an open
    /// that served it finds it gone when it was answered or timed out).
    func isPending(_ token: qmp_request) -> Bool {
        waiting[token] != nil || running.contains { $0?.token == token }
    }

    /// The QOM path given with a request not answered yet (`request_qom_path`).
    func qomPath(of token: qmp_request) -> UnsafePointer<CChar>? {
        if let entry = running.last(where: { $0?.token == token }) { return entry?.qomPath.map { UnsafePointer($0.pointer) } }
        return waiting[token]?.qomPath.map { UnsafePointer($0.pointer) }
    }

    /// Completes a taken entry, counting the plugin's reply time.
    static func finish(_ entry: Entry, _ result: QMPReply) {
        let answered = MonotonicClock.nanoseconds()
        entry.instance.replyTimes.record(nanoseconds: answered &- entry.started)
        entry.call?.answered = answered
        entry.complete(result)
    }

    /// Fails every request of an instance that is going away.
    func cancelAll(of instance: PluginInstance) {
        let tokens = running.compactMap { $0?.instance === instance ? $0?.token : nil }
            + waiting.values.filter { $0.instance === instance }.map(\.token)
        for token in tokens {
            if let entry = take(token) { Self.finish(entry, .failure(.generic("The VM is shutting down"))) }
        }
    }

    private func nextToken() -> UInt64 {
        if sequence == Self.sequenceMask {
            // 2^44 requests on one thread: a fresh number, so no token repeats.
            tokenBase = Self.newTokenBase()
            sequence = 0
        }
        sequence += 1
        return tokenBase | sequence
    }

    // MARK: One table per thread

    /// This thread's table, made at its first plugin request.
    static var current: PendingRequests {
        if let raw = pthread_getspecific(key) { return Unmanaged<PendingRequests>.fromOpaque(raw).takeUnretainedValue() }
        let table = PendingRequests()
        pthread_setspecific(key, Unmanaged.passRetained(table).toOpaque())
        return table
    }

    /// Released with its thread.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<PendingRequests>.fromOpaque(raw).release() }
        }
        return key
    }()

    private static let tableNumbers = Atomic<UInt64>(0)

    /// The next table number in a token's top bits (never 0: no token is 0).
    private static func newTokenBase() -> UInt64 {
        let numbers = UInt64(1) << UInt64(64 - sequenceBits)
        let number = tableNumbers.wrappingAdd(1, ordering: .relaxed).newValue % (numbers - 1) + 1
        return number << UInt64(sequenceBits)
    }
}
