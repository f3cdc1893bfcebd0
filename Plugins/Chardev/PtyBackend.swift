#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// `pty`: a real pseudo-terminal (posix_openpt/grantpt/unlockpt/ptsname),
/// in raw mode as QEMU sets it up. A client opens the slave path we
/// return. Output written while no one has the slave open is kept (up to
/// `pendingLimit`) and delivered once someone does, so a client that opens
/// the console late still sees the boot log.
final class PtyBackend: ChardevBackend {
    /// Bytes kept while the slave side is closed.
    static let pendingLimit = 64 << 10
    /// How often a closed slave side is checked for a reader.
    static let connectPollMilliseconds: UInt64 = 50

    private let vm: PluginVM
    private var master: Int32
    let slavePath: String
    private var pending: [UInt8] = []
    private var pollTimer: TimerID?

    var ptyPath: String? { slavePath }
    var filename: String { "pty:\(slavePath)" }

    private init(vm: PluginVM, master: Int32, slavePath: String) {
        self.vm = vm
        self.master = master
        self.slavePath = slavePath
    }

    /// Opens a new pty; the error is the reason text.
    static func open(vm: PluginVM) -> Result<PtyBackend, QMPError> {
        let master = PtyCalls.posixOpenPT(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { return .failure(.generic("Failed to create PTY: \(HostFile.errorText)")) }
        guard PtyCalls.grantPT(master) == 0, PtyCalls.unlockPT(master) == 0, let path = PtyCalls.slaveName(master) else {
            let text = HostFile.errorText
            Glibc.close(master)
            return .failure(.generic("Failed to create PTY: \(text)"))
        }
        // Raw mode on the slave side, then let it go: QEMU does the same.
        let slave = Glibc.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        if slave >= 0 {
            var tio = termios()
            if tcgetattr(slave, &tio) == 0 {
                cfmakeraw(&tio)
                tcsetattr(slave, TCSAFLUSH, &tio)
            }
            Glibc.close(slave)
        }
        HostFile.setNonBlocking(master)
        return .success(PtyBackend(vm: vm, master: master, slavePath: path))
    }

    /// True when some process has the slave side open.
    private var isConnected: Bool {
        var p = pollfd(fd: master, events: Int16(POLLOUT), revents: 0)
        guard poll(&p, 1, 0) >= 0 else { return false }
        return p.revents & Int16(POLLHUP) == 0
    }

    func write(_ bytes: [UInt8]) {
        guard master >= 0 else { return }
        pending.append(contentsOf: bytes)
        if pending.count > PtyBackend.pendingLimit { pending.removeFirst(pending.count - PtyBackend.pendingLimit) }
        flush()
    }

    private func flush() {
        guard master >= 0, !pending.isEmpty else { return stopPolling() }
        guard isConnected else { return startPolling() }
        drainInput()
        HostFile.write(master, pending)
        pending.removeAll()
        stopPolling()
    }

    /// What the user typed goes nowhere (the simulated guest does not read).
    private func drainInput() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ Glibc.read(master, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func startPolling() {
        guard pollTimer == nil else { return }
        pollTimer = vm.startTimer(afterMilliseconds: PtyBackend.connectPollMilliseconds, repeatEvery: PtyBackend.connectPollMilliseconds) { [weak self] in
            self?.flush()
        }
    }

    private func stopPolling() {
        if let pollTimer { vm.cancelTimer(pollTimer) }
        pollTimer = nil
    }

    func close() {
        stopPolling()
        if master >= 0 { Glibc.close(master) }
        master = -1
    }
}
