#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// `socket` on a unix path: a real listening socket (one client at a time,
/// as QEMU serves it) or a real client connection, non-blocking and driven
/// by the VM's fd watches. Guest output goes to the connected peer, and is
/// dropped while there is none, as in QEMU.
///
/// What touches the path (bind, connect, a reconnecting client's attempts,
/// removing the socket file) runs on workers (`SocketSetup`, `vm.offload`):
/// a lookup on a hung FUSE or NFS mount would hold the loop.
final class SocketBackend: ChardevBackend {
    static let listenBacklog: Int32 = 1

    private let vm: PluginVM
    let path: String
    /// A server's socket file, removed on close only if still ours.
    private var socketFile: ClientSocketPath?
    let isServer: Bool
    /// Seconds between reconnect attempts of a client; 0: none.
    let reconnectSeconds: Int64
    private var listenFD: Int32 = -1
    private var peerFD: Int32 = -1
    private var listenWatch: FDWatchID?
    private var peerWatch: FDWatchID?
    private var reconnectTimer: TimerID?
    /// A reconnect attempt is on a worker.
    private var connecting = false
    private var isClosed = false

    var isConnected: Bool { peerFD >= 0 }

    var filename: String {
        let suffix = isServer ? ",server=on" : ""
        if isConnected { return isServer ? "unix:\(path)\(suffix)" : "unix:" }
        return "disconnected:unix:\(path)\(suffix)"
    }

    private init(vm: PluginVM, path: String, isServer: Bool, reconnectSeconds: Int64) {
        self.vm = vm
        self.path = path
        self.isServer = isServer
        self.reconnectSeconds = reconnectSeconds
    }

    /// The backend over a socket `setup` made: a server listening, a client
    /// connected, or a reconnecting client whose first attempt failed (it
    /// tries again later, as QEMU's does).
    static func make(vm: PluginVM, _ setup: SocketSetup, reconnect: Int64) -> Result<SocketBackend, QMPError> {
        let made = setup.take()
        let backend = SocketBackend(vm: vm, path: setup.path, isServer: setup.isServer, reconnectSeconds: reconnect)
        if setup.isServer {
            guard let made else { return .failure(.generic(setup.failure ?? "Failed to bind socket to \(setup.path)")) }
            backend.listenFD = made.fd
            backend.socketFile = made.file
            backend.listenWatch = vm.watch(fd: made.fd) { [weak backend] _ in backend?.acceptPeer() }
        } else if let made {
            backend.attachPeer(made.fd)
        } else {
            guard reconnect > 0 else { return .failure(.generic(setup.failure ?? "Failed to connect to '\(setup.path)'")) }
            backend.scheduleReconnect()
        }
        return .success(backend)
    }

    /// `reconnect` is any QAPI `int` QEMU accepts (up to 2^63-1 seconds):
    /// the milliseconds saturate where QEMU's `reconnect_time * 1000`
    /// would overflow, so such a client just never retries in the VM's life.
    var reconnectMilliseconds: UInt64 {
        let (ms, overflow) = UInt64(max(0, reconnectSeconds)).multipliedReportingOverflow(by: 1000)
        return overflow ? .max : ms
    }

    private func scheduleReconnect() {
        guard reconnectSeconds > 0, !isClosed, !connecting, reconnectTimer == nil else { return }
        reconnectTimer = vm.startTimer(afterMilliseconds: reconnectMilliseconds) { [weak self] in
            guard let self else { return }
            self.reconnectTimer = nil
            self.reconnect()
        }
    }

    /// One attempt on a worker; a failed one is tried again later. A
    /// connection made after the chardev closed is closed (`SocketSetup`).
    private func reconnect() {
        let attempt = SocketSetup(path: path, isServer: false)
        connecting = true
        vm.offload({ attempt.run() }, then: { [weak self] in
            guard let self else { return }
            self.connecting = false
            guard !self.isClosed, !self.isConnected, let made = attempt.take() else { return self.scheduleReconnect() }
            self.attachPeer(made.fd)
        })
    }

    private func acceptPeer() {
        let fd = accept(listenFD, nil, nil)
        guard fd >= 0 else { return }
        HostFile.setNonBlocking(fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        // One client at a time, as QEMU: a second one is turned away.
        guard !isConnected else { Glibc.close(fd); return }
        attachPeer(fd)
    }

    private func attachPeer(_ fd: Int32) {
        peerFD = fd
        peerWatch = vm.watch(fd: fd, events: [.readable, .hangup]) { [weak self] _ in self?.peerReadable() }
    }

    /// Input from the peer goes nowhere; end of stream disconnects.
    private func peerReadable() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(peerFD, $0.baseAddress, $0.count) }
            if n > 0 { continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
            dropPeer()
            if !isServer { scheduleReconnect() }
            return
        }
    }

    private func dropPeer() {
        if let peerWatch { vm.unwatch(peerWatch) }
        peerWatch = nil
        if peerFD >= 0 { Glibc.close(peerFD) }
        peerFD = -1
    }

    func write(_ bytes: [UInt8]) {
        guard isConnected else { return }
        HostFile.write(peerFD, bytes)
    }

    func close() { close(then: {}) }

    /// Closes, then `done` once a server's socket file is removed (on a
    /// worker; `done` is not called when the VM ended meanwhile).
    func close(then done: @escaping () -> Void) {
        isClosed = true
        if let reconnectTimer { vm.cancelTimer(reconnectTimer) }
        reconnectTimer = nil
        dropPeer()
        if let listenWatch { vm.unwatch(listenWatch) }
        listenWatch = nil
        if listenFD >= 0 { Glibc.close(listenFD) }
        listenFD = -1
        guard let file = socketFile else { return done() }
        socketFile = nil
        vm.offload({ file.remove() }, then: done)
    }
}
