import QMPPluginKit
import QMPWire

/// `transaction`: the actions run in order on the live state; if one fails,
/// the graph is put back as it was and the jobs the earlier actions created
/// are forgotten before they ever ran, so nothing changes. Jobs start (and
/// their events go out) only once every action has succeeded.
extension BlockPlugin {
    static func registerTransaction(_ plugin: PluginRegistry<BlockPlugin>) {
        plugin.command("transaction") { this, args in this.transaction(args["actions"]?.arrayValue ?? []) }
    }

    /// The handler of each TransactionAction type.
    func transactionAction(_ type: String) -> ((JSONObject) -> Result<JSONValue, QMPError>)? {
        switch type {
        case "abort": return { _ in .failure(.generic("Transaction aborted using Abort action")) }
        case "block-dirty-bitmap-add": return addBitmap
        case "block-dirty-bitmap-remove":
            return { self.withBitmap($0, modifying: true) { graph, node, i in graph[node: node]?.bitmaps.remove(at: i) } }
        case "block-dirty-bitmap-clear":
            return { self.withBitmap($0, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].dirty = RangeSet() } }
        case "block-dirty-bitmap-enable":
            return { self.withBitmap($0, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].recording = true } }
        case "block-dirty-bitmap-disable":
            return { self.withBitmap($0, modifying: true) { graph, node, i in graph[node: node]?.bitmaps[i].recording = false } }
        case "block-dirty-bitmap-merge": return mergeBitmaps
        case "blockdev-backup": return { self.startBackup($0, targetIsFile: false) }
        case "drive-backup": return { self.startBackup($0, targetIsFile: true) }
        case "blockdev-snapshot": return snapshot
        case "blockdev-snapshot-sync": return snapshotSync
        case "blockdev-snapshot-internal-sync": return internalSnapshot
        default: return nil
        }
    }

    func transaction(_ actions: [JSONValue]) -> Result<JSONValue, QMPError> {
        let saved = graph
        let jobsBefore = jobs
        deferredJobStarts = []
        defer { deferredJobStarts = nil }
        for action in actions {
            let type = action["type"]?.stringValue ?? ""
            guard let handler = transactionAction(type) else { continue }
            if case .failure(let error) = handler(action["data"]?.objectValue ?? [:]) {
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
