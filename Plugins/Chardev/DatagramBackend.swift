#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit

/// `udp`: guest output sent as datagrams on a socket connected to the
/// remote address the client named (`DatagramSetup`), so it goes nowhere
/// else. A send that would block drops the bytes, as a datagram a full
/// socket cannot take is lost in QEMU too. `query-chardev` shows "udp".
final class DatagramBackend: ChardevBackend {
    private var fd: Int32
    var filename: String { "udp" }

    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: [UInt8]) {
        guard fd >= 0, !bytes.isEmpty else { return }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
