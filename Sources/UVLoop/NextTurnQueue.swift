import CUV

/// Work that must wait until the loop has polled for I/O once more: the rest
/// of a session's queued commands after its turn's time ran out.
///
/// Not a 0 ms timer: libuv 1.44 (Debian 12) runs a timer started from a
/// timer callback in the same pass when its timeout is 0 (its due time is
/// the loop's cached "now"), so a session that re-armed one for its rest
/// would never let the poll phase in, and every other client of the loop
/// would wait for all of it. Here the work runs in a `uv_check_t`, right
/// after the poll phase's I/O callbacks, and what is queued while the queue
/// runs waits for the next turn's. A `uv_idle_t` is active while work is
/// queued, so the poll in between does not block. Loop-confined.
final class NextTurnQueue: LoopHandle {
    private var check: UnsafeMutablePointer<uv_check_t>?
    private var idle: UnsafeMutablePointer<uv_idle_t>?
    private var pending: [() -> Void] = []
    /// The list being run; swapped with `pending` (both keep their storage).
    private var running: [() -> Void] = []

    init(loop raw: UnsafeMutablePointer<uv_loop_t>) {
        let check = HandleMemory.allocate(uv_check_t.self)
        let idle = HandleMemory.allocate(uv_idle_t.self)
        // Neither init can fail on Linux: they only link the handle in.
        uv_check_init(raw, check)
        uv_idle_init(raw, idle)
        HandleMemory.retain(self, in: check.asHandle)
        HandleMemory.retain(self, in: idle.asHandle)
        uv_check_start(check) { handle in
            HandleMemory.owner(handle?.asHandle, as: NextTurnQueue.self)?.runPending()
        }
        // The check handle alone keeps nothing going; the idle one does while active.
        uv_unref(check.asHandle)
        self.check = check
        self.idle = idle
    }

    /// Runs `work` after the loop's next poll for I/O.
    func add(_ work: @escaping () -> Void) {
        guard let idle else { return }
        if pending.isEmpty {
            uv_idle_start(idle) { _ in }
        }
        pending.append(work)
    }

    private func runPending() {
        guard !pending.isEmpty else { return }
        swap(&pending, &running)
        if let idle { uv_idle_stop(idle) }
        for work in running { work() }
        running.removeAll(keepingCapacity: true)
    }

    /// Drops what is queued and closes the handles; idempotent.
    func close() {
        if let check { HandleMemory.close(check.asHandle) }
        if let idle { HandleMemory.close(idle.asHandle) }
        check = nil
        idle = nil
        pending.removeAll()
    }
}
