#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit

/// `file`: guest output appended to (or truncating) a host file opened
/// through the VM, written off the loop; an optional `in` file is opened
/// as QEMU opens it.
final class FileBackend: ChardevBackend {
    private var out: FileWriter?
    private var inFD: Int32?
    var filename: String { "file" }

    init(vm: PluginVM, outFD: Int32, inFD: Int32?) {
        out = FileWriter(vm: vm, fd: outFD)
        self.inFD = inFD
    }

    func write(_ bytes: [UInt8]) { out?.write(bytes) }

    func close() {
        out?.close()
        out = nil
        if let inFD { Glibc.close(inFD) }
        inFD = nil
    }
}
