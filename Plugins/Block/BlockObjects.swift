import QMPPluginKit
import QMPWire

/// The user-creatable objects block devices use (`object-add`):
/// - `secret`: keys and passwords (`SecretObject`), for encrypted images and
///   for other secrets' `keyid`;
/// - `iothread`: an I/O thread a virtio-blk or virtio-scsi device can run
///   in (`iothread=`), listed by `query-iothreads` with its poll settings.
extension BlockPlugin {
    /// QEMU 7.2's defaults for what `object-add iothread` leaves out
    /// (`thread-pool-max` is the thread pool's default maximum).
    static let iothreadDefaults: [(name: String, value: Int64)] = [
        ("aio-max-batch", 0), ("thread-pool-min", 0), ("thread-pool-max", 64),
        ("poll-max-ns", 32768), ("poll-grow", 0), ("poll-shrink", 0),
    ]

    static func registerObjects(_ plugin: PluginRegistry<BlockPlugin>) {
        let secretProperties = ["loaded", "format", "keyid", "iv", "data", "file"]
        plugin.objectType(["name": "secret", "parent": "secret_common",
                           "properties": .array(secretProperties.map { ["name": .string($0), "type": "any"] })],
                          asyncAdd: { this, id, props, reply in this.addSecret(id ?? "", props, reply: reply) },
                          remove: { this, id in this.secrets[id] = nil; return .success(()) })
        plugin.objectType(["name": "iothread", "parent": "event-loop-base",
                           "properties": .array(iothreadDefaults.map { ["name": .string($0.name), "type": "int"] })],
                          add: { this, id, props in this.addIOThread(id ?? "", props) },
                          remove: { this, id in this.iothreads[id] = nil; return .success(()) })
    }

    func addSecret(_ id: String, _ props: JSONObject, reply: Reply) {
        SecretObject.load(id: id, props, vm: vm, for: reply, lookup: { [weak self] in self?.secrets[$0] }) { [weak self] result in
            switch result {
            case .success(let secret):
                self?.secrets[id] = secret
                reply.success()
            case .failure(let error):
                reply.failure(error)
            }
        }
    }

    /// `iothread_complete` and the event loop base's property checks.
    func addIOThread(_ id: String, _ props: JSONObject) -> Result<Void, QMPError> {
        var values: [String: Int64] = [:]
        for (name, fallback) in Self.iothreadDefaults {
            let value = props[name]?.int64Value ?? fallback
            guard value >= 0 else { return .failure(.generic("\(name) value must be in range [0, \(Int64.max)]")) }
            values[name] = value
        }
        guard let min = values["thread-pool-min"], let max = values["thread-pool-max"], min <= max else {
            return .failure(.generic("bad thread-pool-min/thread-pool-max values"))
        }
        iothreads[id] = values
        return .success(())
    }
}
