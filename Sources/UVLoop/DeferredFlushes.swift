import CUV

/// The connections with output written during this turn of the loop, sent
/// once the turn's callbacks are done: one `sendmsg` per connection per turn
/// however many replies and events it got. (The replies to what a
/// connection just read leave at the end of that read instead, in one
/// `sendmsg` too: `UnixConnection.flushAfterRead`.)
///
/// That is what makes a pipelined burst cheap (a thousand replies to one
/// read leave in a few gathered sends, not a thousand) and halves the sends
/// of a `stop`/`cont` pair to every client of a VM. The bytes on the wire
/// are the same; only their grouping into system calls changes.
///
/// Flushes run in a `uv_check_t` (right after the poll phase's I/O
/// callbacks) and in a `uv_prepare_t` (right before the loop blocks, for
/// what timers and the inbox wrote), so nothing written waits while the
/// loop sleeps. Writes made *during* a prepare-phase flush (a session whose
/// output drained there runs its next command) would otherwise wait for
/// the next wake-up, which may never come: for them a `uv_idle_t` is
/// started, which makes that poll return at once, and the check phase
/// right after sends them. All three handles are unreferenced: they never
/// keep `run()` going.
///
/// The lists hold connections unretained: an event to 1,000 clients lists
/// each, and a retain and release apiece was about 2 % of the fan-out
/// (docs/performance.md, "One event to 1,000 clients (session 11)"). An
/// open connection is alive anyway (its poll handle holds it); one that
/// closes while listed (or inside its own flush) tells `closing`, which
/// holds it until a flush has passed it. Loop-confined.
final class DeferredFlushes: LoopHandle {
    private var check: UnsafeMutablePointer<uv_check_t>?
    private var prepare: UnsafeMutablePointer<uv_prepare_t>?
    /// Started while writes made during a prepare-phase flush wait.
    private var idle: UnsafeMutablePointer<uv_idle_t>?
    private var idleRunning = false
    /// Connections to flush at the end of this turn, each at most once.
    @exclusivity(unchecked) private var pending: [Unmanaged<UnixConnection>] = []
    /// The list being flushed; swapped with `pending`, so both keep their
    /// storage from turn to turn and a flush that writes elsewhere appends
    /// to the other one.
    @exclusivity(unchecked) private var flushing: [Unmanaged<UnixConnection>] = []
    /// Listed connections that closed since the last flush began: held
    /// until a flush has passed the list they are in (the one under way,
    /// if it had not reached them, or the next, which swaps in `pending`).
    @exclusivity(unchecked) private var closedWhileListed: [UnixConnection] = []
    /// Those that closed before the flush under way began: the lists it
    /// passes are the last that can hold them.
    @exclusivity(unchecked) private var closedWhileListedBefore: [UnixConnection] = []
    /// A flush is passing `flushing`: a callback in it that closes the loop
    /// (and so this) starts no second pass and frees nothing it may reach.
    private var inFlush = false
    /// The connection whose flush runs now: one that closes itself in it
    /// (its queue drained, its session ended) must outlive the call.
    @exclusivity(unchecked) private var flushingNow: UnsafeMutableRawPointer?
    /// Other loops' shares of this turn's writes (`WriteHandoff`), handed
    /// over before this loop's own sends so both loops send at once.
    private var handoffs: [WriteHandoff] = []

    init(loop raw: UnsafeMutablePointer<uv_loop_t>) {
        let check = HandleMemory.allocate(uv_check_t.self)
        let prepare = HandleMemory.allocate(uv_prepare_t.self)
        let idle = HandleMemory.allocate(uv_idle_t.self)
        // None of the inits can fail on Linux: they only link the handle in.
        uv_check_init(raw, check)
        uv_prepare_init(raw, prepare)
        uv_idle_init(raw, idle)
        HandleMemory.retain(self, in: check.asHandle)
        HandleMemory.retain(self, in: prepare.asHandle)
        HandleMemory.retain(self, in: idle.asHandle)
        uv_check_start(check) { handle in
            HandleMemory.owner(handle?.asHandle, as: DeferredFlushes.self)?.checkPhase()
        }
        uv_prepare_start(prepare) { handle in
            HandleMemory.owner(handle?.asHandle, as: DeferredFlushes.self)?.preparePhase()
        }
        uv_unref(check.asHandle)
        uv_unref(prepare.asHandle)
        uv_unref(idle.asHandle)
        self.check = check
        self.prepare = prepare
        self.idle = idle
    }

    /// Whether flushes still run (false once the loop closed its handles).
    var isOpen: Bool { check != nil }

    /// `connection` has output to send at the end of this turn. The caller
    /// asks once until its flush runs.
    func add(_ connection: UnixConnection) {
        pending.append(Unmanaged.passUnretained(connection))
    }

    /// `connection` is closing: when it is listed, or its flush is running,
    /// its poll handle no longer holds it, so this must until a flush has
    /// passed it.
    func closing(_ connection: UnixConnection, listed: Bool) {
        guard isOpen || inFlush else { return }
        guard listed || flushingNow == Unmanaged.passUnretained(connection).toOpaque() else { return }
        closedWhileListed.append(connection)
    }

    /// `handoff` has writes for its loop, handed over at the end of this turn.
    func add(_ handoff: WriteHandoff) {
        handoffs.append(handoff)
    }

    private func checkPhase() {
        flushAll()
        if idleRunning, let idle {
            idleRunning = false
            uv_idle_stop(idle)
        }
    }

    /// The loop is about to block: what this flush wrote must not wait.
    private func preparePhase() {
        flushAll()
        guard !pending.isEmpty || !handoffs.isEmpty, !idleRunning, let idle else { return }
        idleRunning = true
        uv_idle_start(idle) { _ in }
    }

    private func flushAll() {
        guard !inFlush else { return }
        if !handoffs.isEmpty { sendHandoffs() }
        guard !pending.isEmpty else {
            // Listed nowhere now.
            if !closedWhileListed.isEmpty { closedWhileListed.removeAll() }
            return
        }
        inFlush = true
        swap(&pending, &flushing)
        swap(&closedWhileListed, &closedWhileListedBefore)
        for connection in flushing {
            flushingNow = connection.toOpaque()
            connection._withUnsafeGuaranteedRef { $0.flushDeferred() }
        }
        flushingNow = nil
        flushing.removeAll(keepingCapacity: true)
        closedWhileListedBefore.removeAll()
        inFlush = false
        // Closed meanwhile: `pending` was emptied, nothing lists them.
        if !isOpen { closedWhileListed.removeAll() }
    }

    private func sendHandoffs() {
        let due = handoffs
        handoffs.removeAll(keepingCapacity: true)
        for handoff in due { handoff.send() }
    }

    /// Sends what is pending, then stops; idempotent.
    func close() {
        flushAll()
        if let check { HandleMemory.close(check.asHandle) }
        if let prepare { HandleMemory.close(prepare.asHandle) }
        if let idle { HandleMemory.close(idle.asHandle) }
        check = nil
        prepare = nil
        idle = nil
        idleRunning = false
        pending.removeAll()
        handoffs.removeAll()
        // A flush under way (whose callback closed the loop) lets them go.
        guard !inFlush else { return }
        closedWhileListed.removeAll()
        closedWhileListedBefore.removeAll()
    }
}
