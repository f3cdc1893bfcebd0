#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit

/// One connected migration socket on the VM's loop: a bounded queue of
/// bytes going out, written as the socket takes them, and bytes coming in
/// handed on as they arrive. Nothing here blocks: the socket is
/// non-blocking and readiness comes from the host's fd watch.
final class MigrationChannel {
    /// The most bytes read per readiness callback.
    static let readChunkBytes = 64 << 10

    let vm: PluginVM
    let fd: Int32
    /// Bytes the sender may queue before it waits for the socket.
    let outboxLimit: Int
    private var watch: FDWatchID?
    private var outbox: [UInt8] = []
    private var outStart = 0
    private(set) var isClosed = false
    /// Bytes the socket accepted so far.
    private(set) var bytesWritten: UInt64 = 0

    /// Bytes arrived.
    var onData: ((UnsafeRawBufferPointer) -> Void)?
    /// The queue has room again (or emptied).
    var onWritable: (() -> Void)?
    /// The peer closed (nil) or the socket failed (QEMU-style text).
    var onClosed: ((String?) -> Void)?

    /// Watches `fd` (which becomes the channel's); nil when the host
    /// cannot watch descriptors (an in-process test fleet has no loop).
    init?(vm: PluginVM, fd: Int32, outboxLimit: Int) {
        self.vm = vm
        self.fd = fd
        self.outboxLimit = outboxLimit
        MigrationSocket.setNonBlocking(fd)
        guard let watch = vm.watch(fd: fd, events: .readable, { [weak self] events in self?.ready(events) }) else {
            Glibc.close(fd)
            return nil
        }
        self.watch = watch
    }

    deinit { close() }

    var pendingBytes: Int { outbox.count - outStart }
    var room: Int { max(0, outboxLimit - pendingBytes) }

    /// Queues `bytes` and writes what the socket takes now.
    func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        outbox.append(contentsOf: bytes)
        flush()
    }

    func flush() {
        while !isClosed, pendingBytes > 0 {
            let n = outbox.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + outStart, pendingBytes, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                outStart += n
                bytesWritten &+= UInt64(n)
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            fail("Unable to write to socket: \(MigrationSocket.errorText)")
            return
        }
        if outStart > 0 && (pendingBytes == 0 || outStart >= outboxLimit) {
            outbox.removeSubrange(0..<outStart)
            outStart = 0
        }
        if let watch, !isClosed {
            vm.updateWatch(watch, events: pendingBytes > 0 ? [.readable, .writable] : .readable)
        }
    }

    /// Asks for a writable callback even with nothing queued (the sender
    /// has more to queue and yields to the loop first).
    func wakeWhenWritable() {
        guard let watch, !isClosed else { return }
        vm.updateWatch(watch, events: [.readable, .writable])
    }

    /// Shuts the socket down and forgets it (no callback).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        if let watch { vm.unwatch(watch) }
        watch = nil
        Glibc.close(fd)
        outbox = []
        outStart = 0
    }

    private func fail(_ reason: String?) {
        guard !isClosed else { return }
        let callback = onClosed
        close()
        callback?(reason)
    }

    private func ready(_ events: FDEvents) {
        if events.contains(.readable) || events.contains(.hangup) {
            var buffer = [UInt8](repeating: 0, count: MigrationChannel.readChunkBytes)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n > 0 {
                buffer.withUnsafeBytes { onData?(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            } else if n == 0 {
                fail(nil)
                return
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                fail("Unable to read from socket: \(MigrationSocket.errorText)")
                return
            }
        }
        guard !isClosed else { return }
        if events.contains(.writable) || pendingBytes > 0 {
            flush()
            if !isClosed && room > 0 { onWritable?() }
        }
    }
}
