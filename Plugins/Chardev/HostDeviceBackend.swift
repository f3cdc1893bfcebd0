#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit

/// `file`, `serial`, `pipe` and `parallel`: QEMU's `char-fd` backends, a
/// host file or device the client named, opened off the loop (`file`'s
/// `out` appended to or truncated, an optional `in`; the others read-write).
/// Guest output goes through a `FileWriter` (the host's `fd_transfer`: a
/// slow disk delays the file, never the loop, and a tty nobody reads holds
/// no thread); what the other end writes has no reader in a simulated
/// guest, so the input descriptor is only held, as QEMU holds it, until
/// the chardev goes. `query-chardev` shows the kind, as QEMU does for these.
final class HostDeviceBackend: ChardevBackend {
    let filename: String
    private var out: FileWriter?
    private var inFD: Int32?

    /// `inFD` nil: one descriptor for both directions (a serial device, a
    /// pipe opened as one path) or none to read (a file without `in`),
    /// the output one owned by the writer.
    init(kind: String, vm: PluginVM, outFD: Int32, inFD: Int32?) {
        filename = kind
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

/// QEMU's setup of a host device after its open, done on a worker (an
/// ioctl on a device or a hung mount may wait).
enum HostDeviceSetup {
    /// Linux `PPCLAIM` (`_IO('p', 0x8b)`): claim a parallel port.
    static let parallelClaim: UInt = 0x708b

    /// `tty_serial_init(fd, 115200, 'N', 8, 1)`: raw mode, 115200 baud, 8N1.
    /// As in QEMU, a descriptor that is not a terminal keeps its settings
    /// and the open still succeeds.
    static func initSerial(_ fd: Int32) {
        var tty = termios()
        tcgetattr(fd, &tty)
        cfsetispeed(&tty, speed_t(B115200))
        cfsetospeed(&tty, speed_t(B115200))
        tty.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        tty.c_oflag &= ~tcflag_t(OPOST)
        tty.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | IEXTEN | ISIG)
        tty.c_cflag &= ~(tcflag_t(CSIZE | PARENB | PARODD | CSTOPB) | tcflag_t(CRTSCTS))
        tty.c_cflag |= tcflag_t(CS8)
        tcsetattr(fd, TCSANOW, &tty)
    }

    /// Claims a parallel port: nil, or QEMU's text ("not a parallel port:
    /// Inappropriate ioctl for device" for anything else). The kernel
    /// releases the claim when the descriptor closes.
    static func claimParallel(_ fd: Int32) -> String? {
        guard ioctl(fd, parallelClaim) < 0 else { return nil }
        return "not a parallel port: \(HostFile.errorText)"
    }
}
