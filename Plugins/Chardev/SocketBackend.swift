#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// `socket` on a unix path: a real listening socket (one client at a time,
/// as QEMU serves it) or a real client connection, non-blocking and driven
/// by the VM's fd watches. Guest output goes to the connected peer, and is
/// dropped while there is none, as in QEMU.
final class SocketBackend: ChardevBackend {
    /// `sun_path`'s size on Linux, terminator included.
    static let maximumPathBytes = 108
    static let listenBacklog: Int32 = 1

    private let vm: PluginVM
    let path: String
    /// A server's socket file, removed on close only if still ours.
    private var socketFile: SocketPath?
    let isServer: Bool
    /// Seconds between reconnect attempts of a client; 0: none.
    let reconnectSeconds: Int64
    private var listenFD: Int32 = -1
    private var peerFD: Int32 = -1
    private var listenWatch: FDWatchID?
    private var peerWatch: FDWatchID?
    private var reconnectTimer: TimerID?
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

    static func address(_ path: String) -> sockaddr_un? {
        let bytes = Array(path.utf8)
        guard bytes.count < maximumPathBytes else { return nil }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    static func newSocket() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// Binds and listens on `path`. Unlike QEMU (see `SocketPath`), a
    /// socket a server answers on, or anything but a socket, is left alone
    /// and the bind fails; only a stale socket is replaced.
    static func listen(vm: PluginVM, path: String) -> Result<SocketBackend, QMPError> {
        guard address(path) != nil else { return .failure(.generic("UNIX socket path '\(path)' is too long")) }
        func failure(_ reason: String) -> Result<SocketBackend, QMPError> {
            .failure(.generic("Failed to bind socket to \(path): \(reason)"))
        }
        let file: SocketPath
        switch SocketPath.open(path) {
        case .failure(let error): return failure(error.text)
        case .success(let opened): file = opened
        }
        if case .failure(let error) = file.clear() { return failure(error.text) }
        guard var addr = address(file.address) else { return failure(SocketPathError.errno(ENAMETOOLONG).text) }
        let fd = newSocket()
        guard fd >= 0 else { return .failure(.generic("Failed to create socket: \(HostFile.errorText)")) }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let text = HostFile.errorText
            Glibc.close(fd)
            return failure(text)
        }
        file.recordBound()
        guard Glibc.listen(fd, listenBacklog) == 0 else {
            let text = HostFile.errorText
            Glibc.close(fd)
            file.remove()
            return .failure(.generic("Failed to listen on socket: \(text)"))
        }
        let backend = SocketBackend(vm: vm, path: path, isServer: true, reconnectSeconds: 0)
        backend.listenFD = fd
        backend.socketFile = file
        backend.listenWatch = vm.watch(fd: fd) { [weak backend] _ in backend?.acceptPeer() }
        return .success(backend)
    }

    /// Connects to `path`. With `reconnect`, a failed connect is retried
    /// later instead of failing, as QEMU's reconnecting client does.
    static func connect(vm: PluginVM, path: String, reconnect: Int64) -> Result<SocketBackend, QMPError> {
        guard address(path) != nil else { return .failure(.generic("UNIX socket path '\(path)' is too long")) }
        let backend = SocketBackend(vm: vm, path: path, isServer: false, reconnectSeconds: reconnect)
        if let error = backend.tryConnect() {
            guard reconnect > 0 else { return .failure(.generic(error)) }
            backend.scheduleReconnect()
        }
        return .success(backend)
    }

    /// nil on success, else QEMU's text. The directory is opened (and
    /// checked to be the one named, no symlink on the way) at each attempt
    /// and the connect goes through it, as the server's bind does.
    private func tryConnect() -> String? {
        guard SocketBackend.address(path) != nil else { return "UNIX socket path '\(path)' is too long" }
        let file: SocketPath
        switch SocketPath.open(path) {
        case .failure(let error): return "Failed to connect to '\(path)': \(error.text)"
        case .success(let opened): file = opened
        }
        guard var addr = SocketBackend.address(file.address) else { return "UNIX socket path '\(path)' is too long" }
        let fd = SocketBackend.newSocket()
        guard fd >= 0 else { return "Failed to create socket: \(HostFile.errorText)" }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 || errno == EINPROGRESS else {
            let text = HostFile.errorText
            Glibc.close(fd)
            return "Failed to connect to '\(path)': \(text)"
        }
        attachPeer(fd)
        return nil
    }

    /// `reconnect` is any QAPI `int` QEMU accepts (up to 2^63-1 seconds):
    /// the milliseconds saturate where QEMU's `reconnect_time * 1000`
    /// would overflow, so such a client just never retries in the VM's life.
    var reconnectMilliseconds: UInt64 {
        let (ms, overflow) = UInt64(max(0, reconnectSeconds)).multipliedReportingOverflow(by: 1000)
        return overflow ? .max : ms
    }

    private func scheduleReconnect() {
        guard reconnectSeconds > 0, !isClosed, reconnectTimer == nil else { return }
        reconnectTimer = vm.startTimer(afterMilliseconds: reconnectMilliseconds) { [weak self] in
            guard let self else { return }
            self.reconnectTimer = nil
            if self.tryConnect() != nil { self.scheduleReconnect() }
        }
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

    func close() {
        isClosed = true
        if let reconnectTimer { vm.cancelTimer(reconnectTimer) }
        reconnectTimer = nil
        dropPeer()
        if let listenWatch { vm.unwatch(listenWatch) }
        listenWatch = nil
        if listenFD >= 0 { Glibc.close(listenFD) }
        listenFD = -1
        socketFile?.remove()
        socketFile = nil
    }
}
