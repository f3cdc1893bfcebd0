import UVLoop

/// Work a VM's commands do on libuv's thread pool (file I/O on regular
/// files) goes through the VM's share of it (`PoolShare`,
/// `pool-jobs-per-vm`), so no VM holds every thread another VM needs.
extension VM {
    /// `work` on the pool within the VM's share, then `completion` on the
    /// loop thread; without a loop (in-process fleets) both run now.
    package func offload(_ work: @escaping @Sendable () -> Void, then completion: @escaping () -> Void) {
        guard let share = poolShare else {
            work()
            completion()
            return
        }
        share.offload(work, then: completion)
    }
}
