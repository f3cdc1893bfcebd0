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
/// Most plugins answer before their handler returns. Such a request is a
/// `Running` slot on the short stack of handlers running now, which holds
/// no reference: the answer is kept in the slot, and `run` completes the
/// request with it once the handler returns, from what it has on its own
/// stack. So a synchronous answer costs no entry, no retain of the
/// instance, the call or the completion, and nothing runs inside the
/// plugin's `reply` but taking its text (the client's next request starts
/// after the handler returned, not nested in it). Only when a handler
/// returns without answering does the request become an `Entry` in
/// `waiting`, with its timeout, after which the client gets a GenericError
/// and its queue moves on.
final class PendingRequests {
    /// A request whose handler returned without answering.
    struct Entry {
        let token: qmp_request
        /// Strong: an instance cancels its entries when it ends
        /// (`cancelAll(of:)`), so none outlives it for long.
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
        var qomPath: CStringBox?

        var plugin: String { instance.library.name }
    }

    /// A request whose handler is running now. It holds no reference but
    /// the ones a request needs only rarely (a QOM path, an answer): `run`,
    /// which pushed it and pops it, holds the instance, the call and the
    /// completion on its stack for as long as the slot exists.
    struct Running {
        let token: qmp_request
        /// Whose request it is. `unowned(unsafe)`: the caller of `run` holds
        /// the instance for the whole call, and the slot is gone when `run`
        /// returns, so no retain and release per request is needed.
        unowned(unsafe) let instance: PluginInstance
        let command: String
        var qomPath: CStringBox?
        /// The plugin's answer, once it gave one (a second is refused).
        var answer: QMPReply?
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

    /// Requests whose handler is running now, innermost last (a handler
    /// may start another plugin request: a device's add from a command).
    /// Loop-confined, and no access is held across a plugin call, so the
    /// dynamic exclusivity checks (3 % of a pipelined plugin query) are off.
    @exclusivity(unchecked) private var running: [Running] = []
    /// Requests whose handler returned without answering.
    @exclusivity(unchecked) private var waiting: [UInt64: Entry] = [:]
    @exclusivity(unchecked) private var tokenBase: UInt64
    @exclusivity(unchecked) private var sequence: UInt64 = 0

    private init() {
        tokenBase = Self.newTokenBase()
        running.reserveCapacity(4)
    }

    /// Requests of this table not answered yet (tests).
    var count: Int { waiting.count + running.lazy.filter { $0.answer == nil }.count }

    /// Runs `body` with a new token for a request of `instance`.
    /// `complete` runs once: with the plugin's answer (after `body`
    /// returned, when it answered within it), or with a GenericError when
    /// it does not answer within `plugin-reply-timeout-ms` of `body`
    /// returning, or when the instance ends first.
    /// `call` is the client's command the request runs, if any: the
    /// request starts when it did (`CommandCall.started`).
    /// The timeout is started on the instance's VM's scheduler, only when
    /// `body` returned without an answer.
    func run(for instance: PluginInstance, command: String, call: CommandCall? = nil, qomPath: String? = nil,
             complete: @escaping (QMPReply) -> Void, _ body: (qmp_request) -> Void) {
        run(for: instance, command: command, call: call, qomPath: qomPath, answered: complete, later: { complete }, body)
    }

    /// `run(for:command:call:qomPath:complete:_:)` for a caller that
    /// answers a synchronous answer in place: `answered` gets the answer
    /// when the plugin gave it (or the request failed) before `body`
    /// returned, and only a request left waiting asks `later` for the
    /// completion its entry keeps. A plugin query answers at once, so it
    /// costs no escaping closure (its context and the retains of what it
    /// held were a third of what a plugin command cost more than a core
    /// one, docs/performance.md).
    func run(for instance: PluginInstance, command: String, call: CommandCall? = nil, qomPath: String? = nil,
             answered: (QMPReply) -> Void, later: () -> (QMPReply) -> Void, _ body: (qmp_request) -> Void) {
        let token = nextToken()
        let started = call?.started ?? 0
        let begun = started != 0 ? started : MonotonicClock.nanoseconds()
        running.append(Running(token: token, instance: instance, command: command, qomPath: qomPath.map(CStringBox.init)))
        body(token)
        // The answer is moved out of the slot, not copied (a retain and a
        // release of its text per request).
        if let answer = running[running.count - 1].answer.take() {
            running.removeLast()
            Self.timeAnswer(of: instance, call: call, started: begun)
            return answered(answer)
        }
        let slot = running.removeLast()
        guard let vm = instance.vm else {
            Self.timeAnswer(of: instance, call: call, started: begun)
            return answered(.failure(.generic("The VM is shutting down")))
        }
        let timeoutMilliseconds = vm.pluginReplyTimeoutMilliseconds
        let timeout = vm.scheduler.schedule(afterMilliseconds: timeoutMilliseconds) { [weak self] in
            guard let entry = self?.waiting.removeValue(forKey: token) else { return }
            entry.instance.logger.warning("plugin \(entry.plugin) did not answer \(entry.command) within \(timeoutMilliseconds) ms")
            Self.finish(entry, .failure(.generic("Plugin '\(entry.plugin)' did not answer '\(entry.command)' in time")))
        }
        waiting[token] = Entry(token: token, instance: instance, command: command, call: call, started: begun,
                               complete: later(), timeout: timeout, qomPath: slot.qomPath)
    }

    /// Answers request `token` with what `answer` makes of the instance and
    /// the command it ran (called once): kept in its running slot while its
    /// handler runs, else the waiting request is completed now. False when
    /// the token is unknown, was already answered, or belongs to another
    /// thread's table (the caller logs that as a plugin bug).
    func answer(_ token: qmp_request, _ answer: (_ instance: PluginInstance, _ command: String) -> QMPReply) -> Bool {
        var index = running.endIndex
        while index > running.startIndex {
            index -= 1
            guard running[index].token == token else { continue }
            guard running[index].answer == nil else { return false }
            running[index].answer = answer(running[index].instance, running[index].command)
            return true
        }
        guard let entry = waiting.removeValue(forKey: token) else { return false }
        entry.timeout?.cancel()
        Self.finish(entry, answer(entry.instance, entry.command))
        return true
    }

    /// True while `token` waits for its answer on this thread (an open
    /// that served it finds it gone when it was answered or timed out).
    func isPending(_ token: qmp_request) -> Bool {
        waiting[token] != nil || running.contains { $0.token == token && $0.answer == nil }
    }

    /// The QOM path given with a request not answered yet (`request_qom_path`).
    func qomPath(of token: qmp_request) -> UnsafePointer<CChar>? {
        if let slot = running.last(where: { $0.token == token }) {
            return slot.answer == nil ? slot.qomPath.map { UnsafePointer($0.pointer) } : nil
        }
        return waiting[token]?.qomPath.map { UnsafePointer($0.pointer) }
    }

    /// Completes a request that waited, counting the plugin's reply time.
    static func finish(_ entry: Entry, _ result: QMPReply) {
        timeAnswer(of: entry.instance, call: entry.call, started: entry.started)
        entry.complete(result)
    }

    /// Counts the plugin's reply time of a request answered now: the one
    /// clock reading also times the client's command (`CommandCall.answered`).
    private static func timeAnswer(of instance: PluginInstance, call: CommandCall?, started: UInt64) {
        let answered = MonotonicClock.nanoseconds()
        instance.replyTimes.record(nanoseconds: answered &- started)
        call?.answered = answered
    }

    /// Fails every request of an instance that is going away: one whose
    /// handler is running gets the failure as its answer (`run` completes
    /// it when the handler returns), one that waits is completed now.
    func cancelAll(of instance: PluginInstance) {
        for index in running.indices where running[index].instance === instance && running[index].answer == nil {
            running[index].answer = .failure(.generic("The VM is shutting down"))
        }
        let tokens = waiting.values.filter { $0.instance === instance }.map(\.token)
        for token in tokens {
            guard let entry = waiting.removeValue(forKey: token) else { continue }
            entry.timeout?.cancel()
            Self.finish(entry, .failure(.generic("The VM is shutting down")))
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
        withCurrent { $0 }
    }

    /// Runs `body` with this thread's table, borrowed: the thread's key
    /// holds it for the thread's life, so a request or an answer costs no
    /// retain and release of it.
    static func withCurrent<Result>(_ body: (PendingRequests) -> Result) -> Result {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<PendingRequests>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
        }
        let table = PendingRequests()
        pthread_setspecific(key, Unmanaged.passRetained(table).toOpaque())
        return body(table)
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
