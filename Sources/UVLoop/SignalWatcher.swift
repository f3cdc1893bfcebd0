import CUV

/// Calls back on the loop thread when the process gets `signal`.
public final class SignalWatcher: LoopHandle {
    private var handle: UnsafeMutablePointer<uv_signal_t>?
    private var callback: (() -> Void)?

    public init(loop: EventLoop, signal: Int32, _ callback: @escaping () -> Void) throws {
        let h = HandleMemory.allocate(uv_signal_t.self)
        try check(uv_signal_init(loop.raw, h), "uv_signal_init")
        HandleMemory.retain(self, in: h.asHandle)
        handle = h
        self.callback = callback
        let rc = uv_signal_start(h, { h, _ in
            HandleMemory.owner(h?.asHandle, as: SignalWatcher.self)?.callback?()
        }, signal)
        if rc < 0 {
            close()
            throw UVError(code: rc, operation: "uv_signal_start(\(signal))")
        }
    }

    public func close() {
        guard let h = handle else { return }
        handle = nil
        callback = nil
        HandleMemory.close(h.asHandle)
    }
}
