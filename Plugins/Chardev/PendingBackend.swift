import QMPPluginKit
import QMPWire

/// A chardev's backend while the files and socket that the config or an
/// incoming migration named open off the loop.
///
/// QEMU opens them as it starts or as the migration lands, blocking its
/// main loop; a fleet loop serves other VMs, and a lookup or open on a
/// hung FUSE or NFS mount would hold them all (the kernel ignores
/// `O_NONBLOCK` there). So the chardev exists at once (a device can use
/// it, `query-chardev` lists it) and gets its real backend when the opens
/// end. Guest output meanwhile waits here, up to `FileWriter.pendingLimit`
/// bytes. An open that fails is logged and the chardev drops its output
/// from then on (QEMU would not have started, or migrated).
final class PendingBackend: ChardevBackend {
    let filename: String
    private var waiting: [UInt8] = []
    private var isClosed = false

    init(kind: String) { filename = kind }

    func write(_ bytes: [UInt8]) {
        waiting += bytes.prefix(max(0, FileWriter.pendingLimit - waiting.count))
    }

    func close() { isClosed = true }

    /// The opens for `chardev` ended: it gets its backend and log file,
    /// and what the guest wrote meanwhile; or, closed meanwhile, what was
    /// opened is closed again.
    func resolve(_ chardev: Chardev, with opened: Result<Chardev, QMPError>, vm: PluginVM) {
        switch opened {
        case .failure(let error):
            vm.log(.error, "chardev '\(chardev.id)': \(error.desc); its output is dropped")
            if chardev.backend === self { chardev.backend = SinkBackend(kind: filename) }
        case .success(let made):
            guard !isClosed, chardev.backend === self else { return made.close() }
            chardev.backend = made.backend
            chardev.log = made.log
            if !waiting.isEmpty { chardev.write(waiting) }
            waiting = []
        }
    }
}
