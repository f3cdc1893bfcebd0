import CUV
import DequeModule

/// A connected unix stream socket on the loop.
///
/// Reads use `recvmsg`, so file descriptors a peer passes with SCM_RIGHTS
/// arrive too (QMP's `getfd` and `add-fd` need them); they are handed over
/// before the bytes of the same message. Writes go out at once when the
/// socket takes them and are queued in order otherwise; the queue is the
/// caller's to bound (`pendingWriteBytes`).
public final class UnixConnection {
    /// Descriptors accepted in one message, at most.
    public static let maxFileDescriptorsPerMessage = 16
    /// Bytes read per `recvmsg`.
    public static let readChunk = 64 * 1024
    /// Reads per readiness callback, so one busy client cannot starve the loop.
    static let readsPerWakeup = 8

    public let fd: Int32
    private var watcher: FDWatcher?
    private var queue: Deque<[UInt8]> = []
    private var headOffset = 0
    public private(set) var pendingWriteBytes = 0
    private var readingPaused = false
    private var closeWhenFlushed = false
    public private(set) var isClosed = false

    public var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    public var onFileDescriptors: (([Int32]) -> Void)?
    public var onClose: (() -> Void)?

    /// Wraps a connected socket; the connection owns `fd` from now on.
    public init(loop: EventLoop, fd: Int32) throws {
        self.fd = fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        // The watcher holds the connection strongly: it lives while it is open.
        watcher = try FDWatcher(loop: loop, fd: fd) { events, failed in
            self.handle(events, failed: failed)
        }
        updateInterest()
    }

    /// Connects to a listening socket (a unix connect does not block for long).
    public static func connect(loop: EventLoop, path: String) throws -> UnixConnection {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UVError.errno("socket") }
        var address = try UnixAddress(path: path)
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else {
            let error = UVError.errno("connect(\(path))")
            Glibc.close(fd)
            throw error
        }
        return try UnixConnection(loop: loop, fd: fd)
    }

    private func updateInterest() {
        guard let watcher else { return }
        var events: FDWatcher.Events = []
        if !readingPaused { events.insert(.readable) }
        if !queue.isEmpty { events.insert(.writable) }
        watcher.watch(events)
    }

    private func handle(_ events: FDWatcher.Events, failed: Bool) {
        if failed {
            peerClosed()
            return
        }
        if events.contains(.writable) { flush() }
        if events.contains(.readable) && !isClosed { readAvailable() }
    }

    // MARK: Reading

    private func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: Self.readChunk)
        let controlLength = cuv_cmsg_space(MemoryLayout<Int32>.size * Self.maxFileDescriptorsPerMessage)
        var control = [UInt8](repeating: 0, count: controlLength)
        for _ in 0..<Self.readsPerWakeup {
            guard !isClosed, !readingPaused else { return }
            var fds: [Int32] = []
            let n = buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { ctrl in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPointer in
                        var message = msghdr()
                        message.msg_iov = iovPointer
                        message.msg_iovlen = 1
                        message.msg_control = ctrl.baseAddress
                        message.msg_controllen = ctrl.count
                        let n = recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC))
                        if n > 0 { fds = Self.receivedDescriptors(&message) }
                        return n
                    }
                }
            }
            if n == 0 {
                peerClosed()
                return
            }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                peerClosed()
                return
            }
            if !fds.isEmpty {
                if let onFileDescriptors { onFileDescriptors(fds) } else { for d in fds { Glibc.close(d) } }
            }
            guard !isClosed else { return }
            buffer.withUnsafeBytes { onBytes?(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if n < buffer.count { return }
        }
    }

    private static func receivedDescriptors(_ message: inout msghdr) -> [Int32] {
        var fds: [Int32] = []
        var header = cuv_cmsg_firsthdr(&message)
        while let h = header {
            if h.pointee.cmsg_level == SOL_SOCKET && h.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                let payload = Int(h.pointee.cmsg_len) - cuv_cmsg_len(0)
                let count = payload / MemoryLayout<Int32>.size
                let data = UnsafeRawPointer(cuv_cmsg_data(h)!)
                for i in 0..<count {
                    fds.append(data.loadUnaligned(fromByteOffset: i * MemoryLayout<Int32>.size, as: Int32.self))
                }
            }
            header = cuv_cmsg_nxthdr(&message, h)
        }
        return fds
    }

    public func pauseReading() {
        guard !readingPaused else { return }
        readingPaused = true
        updateInterest()
    }

    public func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        updateInterest()
    }

    // MARK: Writing

    public func write(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        if queue.isEmpty {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == bytes.count { return }
            if sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                peerClosed()
                return
            }
            let offset = max(0, sent)
            queue.append(bytes)
            headOffset = offset
            pendingWriteBytes += bytes.count - offset
            updateInterest()
            return
        }
        queue.append(bytes)
        pendingWriteBytes += bytes.count
    }

    /// Sends bytes with descriptors attached (tests, and passing fds on).
    public func write(_ bytes: [UInt8], fileDescriptors: [Int32]) {
        guard !fileDescriptors.isEmpty else { return write(bytes) }
        flush()
        let controlLength = cuv_cmsg_space(MemoryLayout<Int32>.size * fileDescriptors.count)
        var control = [UInt8](repeating: 0, count: controlLength)
        var data = bytes.isEmpty ? [0] : bytes
        let sent = data.withUnsafeMutableBytes { buffer in
            control.withUnsafeMutableBytes { ctrl in
                var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
                return withUnsafeMutablePointer(to: &iov) { iovPointer in
                    var message = msghdr()
                    message.msg_iov = iovPointer
                    message.msg_iovlen = 1
                    message.msg_control = ctrl.baseAddress
                    message.msg_controllen = ctrl.count
                    let h = cuv_cmsg_firsthdr(&message)!
                    h.pointee.cmsg_level = SOL_SOCKET
                    h.pointee.cmsg_type = Int32(SCM_RIGHTS)
                    h.pointee.cmsg_len = cuv_cmsg_len(MemoryLayout<Int32>.size * fileDescriptors.count)
                    let dataPointer = UnsafeMutableRawPointer(cuv_cmsg_data(h)!)
                    for (i, d) in fileDescriptors.enumerated() {
                        dataPointer.storeBytes(of: d, toByteOffset: i * MemoryLayout<Int32>.size, as: Int32.self)
                    }
                    return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                }
            }
        }
        if sent >= 0 && sent < data.count { write(Array(data[sent...])) }
    }

    private func flush() {
        while let head = queue.first {
            let remaining = head.count - headOffset
            let sent = head.withUnsafeBytes { send(fd, $0.baseAddress! + headOffset, remaining, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { break }
                peerClosed()
                return
            }
            pendingWriteBytes -= sent
            if sent == remaining {
                queue.removeFirst()
                headOffset = 0
            } else {
                headOffset += sent
                break
            }
        }
        if queue.isEmpty && closeWhenFlushed {
            close()
            return
        }
        updateInterest()
    }

    // MARK: Closing

    private func peerClosed() {
        guard !isClosed else { return }
        let callback = onClose
        close()
        callback?()
    }

    /// Closes now, dropping queued output; `onClose` is not called.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        queue.removeAll()
        pendingWriteBytes = 0
        onBytes = nil
        onFileDescriptors = nil
        onClose = nil
        watcher?.close()
        watcher = nil
        Glibc.close(fd)
    }

    /// Closes once the queued output is written (the reply to `quit`).
    public func closeAfterFlush() {
        guard !isClosed else { return }
        if queue.isEmpty {
            close()
        } else {
            closeWhenFlushed = true
            readingPaused = true
            updateInterest()
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
