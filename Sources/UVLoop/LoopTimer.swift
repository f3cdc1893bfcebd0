import CUV

/// A libuv timer on the loop thread (loop-confined).
///
/// The handle keeps the timer alive until `close()` (or the loop's
/// `stop()`), so a caller may drop its reference to a running timer.
public final class LoopTimer: LoopHandle {
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var callback: (() -> Void)?

    public init(loop: EventLoop) {
        let h = HandleMemory.allocate(uv_timer_t.self)
        uv_timer_init(loop.raw, h)
        HandleMemory.retain(self, in: h.asHandle)
        handle = h
    }

    /// Fires `callback` after `afterMilliseconds`, then every `repeatEvery` ms if not 0.
    public func start(afterMilliseconds delay: UInt64, repeatEvery: UInt64 = 0, _ callback: @escaping () -> Void) {
        guard let handle else { return }
        self.callback = callback
        uv_timer_start(handle, { timer in
            HandleMemory.owner(timer?.asHandle, as: LoopTimer.self)?.callback?()
        }, delay, repeatEvery)
    }

    public func stop() {
        if let handle { uv_timer_stop(handle) }
    }

    public func close() {
        guard let h = handle else { return }
        handle = nil
        callback = nil
        HandleMemory.close(h.asHandle)
    }
}
