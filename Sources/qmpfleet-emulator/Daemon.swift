#if canImport(Glibc)
import Glibc
#endif

/// `-daemonize` as QEMU does it: the parent waits until the child serves
/// QMP (or failed), then exits with that outcome, so whoever started it
/// (libvirt) may connect as soon as the parent has exited.
struct Daemon {
    /// The child's end of the pipe; -1 when not daemonized.
    private var readyPipe: Int32 = -1

    /// Forks; returns in the child only. The parent waits for `ready()` or
    /// `failed(_:)` and exits 0 or 1.
    static func detach() -> Daemon {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return Daemon() }
        let pid = fork()
        if pid < 0 { return Daemon() }
        if pid > 0 {
            close(fds[1])
            var status: UInt8 = 1
            var message: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = read(fds[0], &status, 1)
            while true {
                let m = read(fds[0], &buffer, buffer.count)
                if m <= 0 { break }
                message += buffer[0..<m]
            }
            if n == 1 && status == 0 { exit(0) }
            if !message.isEmpty { _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) } }
            exit(1)
        }
        close(fds[0])
        setsid()
        let null = open("/dev/null", O_RDWR)
        if null >= 0 { dup2(null, 0); close(null) }
        var daemon = Daemon()
        daemon.readyPipe = fds[1]
        return daemon
    }

    /// Tells the waiting parent the child serves QMP, and lets go of the
    /// parent's stdout and stderr as QEMU's `os_setup_post` does: whoever
    /// started us reads them until EOF (libvirt does).
    mutating func ready() {
        guard readyPipe >= 0 else { return }
        var ok: UInt8 = 0
        _ = write(readyPipe, &ok, 1)
        close(readyPipe)
        readyPipe = -1
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { return }
        dup2(null, 1)
        dup2(null, 2)
        close(null)
    }

    /// Tells the waiting parent start-up failed, with the error text it prints.
    mutating func failed(_ text: String) {
        guard readyPipe >= 0 else { return }
        var fail: UInt8 = 1
        _ = write(readyPipe, &fail, 1)
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(readyPipe, $0.baseAddress, $0.count) }
        close(readyPipe)
        readyPipe = -1
    }
}
