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
/// loop sleeps. Both handles are unreferenced: they never keep `run()`
/// going. Loop-confined.
final class DeferredFlushes: LoopHandle {
    private var check: UnsafeMutablePointer<uv_check_t>?
    private var prepare: UnsafeMutablePointer<uv_prepare_t>?
    /// Connections to flush at the end of this turn, each at most once.
    private var pending: [UnixConnection] = []
    /// The list being flushed; swapped with `pending`, so both keep their
    /// storage from turn to turn and a flush that writes elsewhere appends
    /// to the other one.
    private var flushing: [UnixConnection] = []
    /// Other loops' shares of this turn's writes (`WriteHandoff`), handed
    /// over before this loop's own sends so both loops send at once.
    private var handoffs: [WriteHandoff] = []

    init(loop raw: UnsafeMutablePointer<uv_loop_t>) {
        let check = HandleMemory.allocate(uv_check_t.self)
        let prepare = HandleMemory.allocate(uv_prepare_t.self)
        // Neither init can fail on Linux: they only link the handle in.
        uv_check_init(raw, check)
        uv_prepare_init(raw, prepare)
        HandleMemory.retain(self, in: check.asHandle)
        HandleMemory.retain(self, in: prepare.asHandle)
        uv_check_start(check) { handle in
            HandleMemory.owner(handle?.asHandle, as: DeferredFlushes.self)?.flushAll()
        }
        uv_prepare_start(prepare) { handle in
            HandleMemory.owner(handle?.asHandle, as: DeferredFlushes.self)?.flushAll()
        }
        uv_unref(check.asHandle)
        uv_unref(prepare.asHandle)
        self.check = check
        self.prepare = prepare
    }

    /// Whether flushes still run (false once the loop closed its handles).
    var isOpen: Bool { check != nil }

    /// `connection` has output to send at the end of this turn. The caller
    /// asks once until its flush runs.
    func add(_ connection: UnixConnection) {
        pending.append(connection)
    }

    /// `handoff` has writes for its loop, handed over at the end of this turn.
    func add(_ handoff: WriteHandoff) {
        handoffs.append(handoff)
    }

    private func flushAll() {
        if !handoffs.isEmpty { sendHandoffs() }
        guard !pending.isEmpty else { return }
        swap(&pending, &flushing)
        for connection in flushing { connection.flushDeferred() }
        flushing.removeAll(keepingCapacity: true)
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
        check = nil
        prepare = nil
        pending.removeAll()
        handoffs.removeAll()
    }
}
