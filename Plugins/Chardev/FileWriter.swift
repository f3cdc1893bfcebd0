import QMPPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Guest output to a host file (a `file` chardev's `out`, any chardev's
/// `logfile`), written through the host's `fd_transfer` one batch at a
/// time, in order: a slow disk delays the file, never the VM's loop, and
/// a pipe a client passed and never drains holds no thread.
///
/// Output that arrives while a batch is being written waits, up to
/// `pendingLimit` bytes; beyond that it is dropped, as QEMU drops output
/// a backend cannot take. The fd closes after the last batch is written,
/// even when `close()` came first, so a worker never writes to a
/// descriptor number the process reused.
final class FileWriter {
    static let pendingLimit = 1 << 20

    private let vm: PluginVM
    private let file: WrittenFile
    private var pending: [UInt8] = []
    private var writing = false

    init(vm: PluginVM, fd: Int32) {
        self.vm = vm
        file = WrittenFile(fd: fd)
    }

    func write(_ bytes: [UInt8]) {
        guard !file.isClosing else { return }
        pending += bytes.prefix(max(0, Self.pendingLimit - pending.count))
        flush()
    }

    /// Closes once what was already written has reached the file.
    func close() { file.isClosing = true }

    private func flush() {
        guard !writing, !pending.isEmpty else { return }
        writing = true
        let batch = pending
        pending = []
        let file = file
        vm.write(batch, to: file.fd) { [weak self] _ in
            withExtendedLifetime(file) {}
            guard let self else { return }
            self.writing = false
            self.flush()
        }
    }
}

/// The descriptor a `FileWriter` owns; a transfer holds it while it writes.
private final class WrittenFile: @unchecked Sendable {
    let fd: Int32
    /// Loop thread only.
    var isClosing = false
    init(fd: Int32) { self.fd = fd }
    deinit { Glibc.close(fd) }
}
