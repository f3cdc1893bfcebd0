#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit

/// `braille`: QEMU's Baum display, which talks to brltty through brlapi.
/// Its open connects to brltty's socket first (`brlapi__openConnection`),
/// so on a host without brltty it fails with that connect's error, as
/// QEMU does here ("brlapi__openConnection: connect: No such file or
/// directory"). The connect is real and made on a worker; when brltty
/// answers, the chardev holds the connection and, with no braille
/// protocol spoken here, shows nothing on the display.
final class BrailleBackend: ChardevBackend {
    private var fd: Int32
    var filename: String { "braille" }

    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: [UInt8]) {}

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Connects to brltty's socket: the descriptor, or QEMU's text. On a
    /// worker (the path's lookup may wait on its filesystem), but never
    /// waiting on brltty: non-blocking, so a brltty whose backlog is full
    /// gives EAGAIN at once ("Resource temporarily unavailable") where a
    /// blocking connect held one of libuv's four pool threads until brltty
    /// accepted, for as long as that took (QEMU 7.2's blocks its main loop).
    static func connect(_ path: String = ChardevOpener.brailleSocket) -> Result<Int32, SocketRefusal> {
        guard var addr = ClientSocketPath.address(path) else { return .failure(SocketRefusal("brlapi__openConnection: connect: File name too long")) }
        let fd = ClientSocketPath.newSocket()
        guard fd >= 0 else { return .failure(SocketRefusal("brlapi__openConnection: socket: \(HostFile.errorText)")) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let text = HostFile.errorText
            Glibc.close(fd)
            return .failure(SocketRefusal("brlapi__openConnection: connect: \(text)"))
        }
        return .success(fd)
    }
}

/// A braille connection made on a worker, taken on the loop after it.
final class BrailleConnection: @unchecked Sendable {
    var result: Result<Int32, SocketRefusal> = .failure(SocketRefusal("brlapi__openConnection: not attempted"))
}
