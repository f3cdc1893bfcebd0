import QMPPluginKit
import QMPWire

/// `transaction`: the actions run in order on the live state; if one fails,
/// the graph is put back as it was and the jobs the earlier actions created
/// are forgotten before they ever ran, so nothing changes. Jobs start (and
/// their events go out) only once every action has succeeded.
extension BlockPlugin {
    static func registerTransaction(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command(QAPI.TransactionCommand.self) { this, args in this.transaction(args.actions) }
    }

    /// One TransactionAction, by the handler its command has.
    func run(_ action: QAPI.TransactionAction) -> Result<JSONValue, QMPError> {
        switch action.variant {
        case .abort: return .failure(.generic("Transaction aborted using Abort action"))
        case .blockDirtyBitmapAdd(let w): return addBitmap(w.data)
        case .blockDirtyBitmapRemove(let w): return removeBitmap(w.data)
        case .blockDirtyBitmapClear(let w): return clearBitmap(w.data)
        case .blockDirtyBitmapEnable(let w): return enableBitmap(w.data, true)
        case .blockDirtyBitmapDisable(let w): return enableBitmap(w.data, false)
        case .blockDirtyBitmapMerge(let w): return mergeBitmaps(w.data)
        case .blockdevBackup(let w): return startBackup(w.data)
        case .driveBackup(let w): return startBackup(w.data)
        case .blockdevSnapshot(let w): return snapshot(w.data)
        case .blockdevSnapshotSync(let w): return snapshotSync(w.data)
        case .blockdevSnapshotInternalSync(let w): return internalSnapshot(w.data)
        }
    }

    func transaction(_ actions: [QAPI.TransactionAction]) -> Result<JSONValue, QMPError> {
        let saved = graph
        let jobsBefore = jobs
        deferredJobStarts = []
        defer { deferredJobStarts = nil }
        for action in actions {
            if case .failure(let error) = run(action) {
                var restored = saved
                restored.adoptNameCounter(from: graph)
                graph = restored
                jobs = jobsBefore
                return .failure(error)
            }
        }
        let started = deferredJobStarts ?? []
        deferredJobStarts = nil
        for job in started { run(job) }
        return .success([:])
    }
}
