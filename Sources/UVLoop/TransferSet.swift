/// The transfers on the loop that one owner (a VM, a plugin's instance on
/// it) started: cancelled together when the owner ends, so a pipe nobody
/// drains does not keep its descriptor, buffer and watcher, nor complete
/// a command of a VM that is gone, until `fd-stall-ms` pass.
///
/// Finished transfers are dropped as new ones come, so the set holds no
/// more than its owner's transfers in flight and the last few finished.
/// Loop thread only.
public final class TransferSet {
    private var transfers: [DescriptorTransfer] = []

    public init() {}

    /// Transfers started and not finished.
    public var running: Int { transfers.reduce(0) { $0 + ($1.isFinished ? 0 : 1) } }

    /// Keeps `transfer` (what `EventLoop.transfer` returned: nil when it
    /// went to the pool or ended at once, which cannot be cancelled).
    public func insert(_ transfer: DescriptorTransfer?) {
        transfers.removeAll { $0.isFinished }
        if let transfer, !transfer.isFinished { transfers.append(transfer) }
    }

    /// Ends every transfer still running with -ECANCELED: its completion
    /// runs now, its descriptor is let go.
    public func cancelAll() {
        let waiting = transfers
        transfers.removeAll()
        for transfer in waiting { transfer.cancel() }
    }
}

extension Optional where Wrapped == TransferSet {
    /// Keeps `transfer` in the set, made at the first transfer to keep: a
    /// set per VM and per plugin instance, made up front, was fourteen
    /// allocations for every VM, and most VMs never start a transfer.
    public mutating func insert(_ transfer: DescriptorTransfer?) {
        guard let transfer, !transfer.isFinished else { return }
        if case .none = self { self = TransferSet() }
        self?.insert(transfer)
    }
}
