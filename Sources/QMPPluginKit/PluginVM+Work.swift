import QMPPluginABI

/// Work a plugin must keep off the VM's loop thread: file I/O on paths and
/// descriptors clients named (a slow disk or a pipe would stall every VM
/// of the loop).
extension PluginVM {
    /// Runs `work` on a host worker thread, then `done` on the VM's loop
    /// thread. `work` must not touch the plugin's state or call the host;
    /// `done` is not called when the VM ended meanwhile. From `destroy()`
    /// the work still runs off the loop (cleanup), and `done` never. A
    /// host without `work_queue` (ABI revision 1) runs both in place.
    public func offload(_ work: @escaping @Sendable () -> Void, then done: @escaping () -> Void) {
        let api = PluginHostLink.api!
        let offset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.work_queue) ?? Int.max
        guard Int(api.pointee.struct_size) >= offset + MemoryLayout<qmp_work_fn?>.size,
              let queue = api.pointee.work_queue else {
            work()
            done()
            return
        }
        let box = Unmanaged.passRetained(WorkBox(work: work, done: done)).toOpaque()
        let rc = queue(handle, { opaque in
            Unmanaged<WorkBox>.fromOpaque(opaque!).takeUnretainedValue().work()
        }, { instance, opaque in
            let box = Unmanaged<WorkBox>.fromOpaque(opaque!).takeRetainedValue()
            if instance != nil { box.done() }
        }, box)
        if rc != 0 {
            let box = Unmanaged<WorkBox>.fromOpaque(box).takeRetainedValue()
            box.work()
            box.done()
        }
    }
}

/// One `offload`: the worker reads `work`, the loop then `done`; the
/// host's queue orders the two.
private final class WorkBox: @unchecked Sendable {
    let work: @Sendable () -> Void
    let done: () -> Void
    init(work: @escaping @Sendable () -> Void, done: @escaping () -> Void) {
        self.work = work
        self.done = done
    }
}
