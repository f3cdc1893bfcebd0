#if canImport(Glibc)
import Glibc
#endif

/// `file`: guest output appended to (or truncating) a host file opened
/// through the VM; an optional `in` file is opened as QEMU opens it.
final class FileBackend: ChardevBackend {
    private var outFD: Int32
    private var inFD: Int32?
    var filename: String { "file" }

    init(outFD: Int32, inFD: Int32?) {
        self.outFD = outFD
        self.inFD = inFD
    }

    func write(_ bytes: [UInt8]) {
        guard outFD >= 0 else { return }
        HostFile.write(outFD, bytes)
    }

    func close() {
        if outFD >= 0 { Glibc.close(outFD) }
        if let inFD { Glibc.close(inFD) }
        outFD = -1
        inFD = nil
    }
}
