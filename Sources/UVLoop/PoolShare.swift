import DequeModule

/// One VM's share of libuv's thread pool: at most `limit` of its jobs run
/// on the pool at once; the rest wait, in order, for one of them to end.
///
/// The pool (4 threads) serves every VM of the process, FIFO. Nothing a
/// client does holds a pool thread for ever any more (`DescriptorTransfer`
/// keeps pipes off it), but regular-file work still takes the disk's time:
/// a VM whose clients queue a hundred screendumps, or whose files sit on a
/// filesystem that hangs, would otherwise have every thread and the queue
/// ahead of every other VM. With a share below the pool's size the other
/// VMs always find a thread. Loop thread only.
public final class PoolShare {
    private let loop: EventLoop
    /// Jobs of this share on the pool at once (at least 1).
    public let limit: Int
    public private(set) var running = 0
    private var waiting: Deque<(work: @Sendable () -> Void, completion: () -> Void)> = []

    public init(loop: EventLoop, limit: Int) {
        self.loop = loop
        self.limit = max(1, limit)
    }

    /// Jobs waiting for a slot of this share.
    public var waitingCount: Int { waiting.count }

    /// `EventLoop.offload` within the share: `work` on the pool once fewer
    /// than `limit` of this share's jobs are there, then `completion` on
    /// the loop thread.
    public func offload(_ work: @escaping @Sendable () -> Void, then completion: @escaping () -> Void) {
        guard running < limit else {
            waiting.append((work, completion))
            return
        }
        running += 1
        // The share lives while its jobs do (the completion holds it).
        loop.offload(work, then: {
            self.running -= 1
            completion()
            if self.running < self.limit, let next = self.waiting.popFirst() {
                self.offload(next.work, then: next.completion)
            }
        })
    }
}
