#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// Small wrappers over the POSIX calls the backends share.
enum HostFile {
    /// Writes as much of `bytes` as the fd takes now; a non-blocking fd
    /// that is full drops the rest, as QEMU drops output nobody reads.
    @discardableResult
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static var errorText: String { String(cString: strerror(errno)) }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }
}

/// A file a command created: removed again when the command fails later
/// (`ChardevFiles.discard`), so a failed chardev-add leaves nothing
/// behind. A file that existed before is never removed.
struct CreatedFile {
    let path: String
    let fd: Int32
    let isNew: Bool
}

extension HostFile {
    static func closeFD(_ fd: Int32) { Glibc.close(fd) }
}
