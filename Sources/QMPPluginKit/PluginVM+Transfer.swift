import DescriptorIO
import QMPPluginABI
#if canImport(Glibc)
import Glibc
#endif

/// File I/O on a descriptor a client may have passed (`fd:NAME`,
/// `/dev/fdset/N`): a pipe it never drains must hold no thread. `offload`
/// would hold one of the pool every VM of the process shares (four such
/// writes and every VM's file I/O waits); the host's `fd_transfer` moves a
/// pipe, socket or device on the loop as it becomes ready, and a regular
/// file on the pool.
extension PluginVM {
    /// Writes all of `bytes` to `fd`, then `done(0)` or `done(errno)` on
    /// the VM's loop thread; `done` is not called when the VM ended
    /// meanwhile. With `closing`, `fd` is closed once the transfer is over
    /// (whether or not `done` runs); else the caller keeps it open until
    /// then. A host without `fd_transfer` (ABI revision < 4) writes on a worker.
    public func write(_ bytes: [UInt8], to fd: Int32, closing: Bool = false, done: @escaping (Int32) -> Void) {
        let box = TransferBox(count: bytes.count) { result in done(result < 0 ? Int32(-result) : 0) }
        box.closes = closing ? fd : -1
        bytes.withUnsafeBytes { box.buffer.copyMemory(from: $0) }
        start(box, fd: fd, direction: QMP_TRANSFER_WRITE)
    }

    /// Reads up to `count` bytes of `fd` (fewer only at its end), then
    /// `done` with them or an errno on the VM's loop thread; not called
    /// when the VM ended meanwhile. `closing` as for `write`.
    public func read(upTo count: Int, from fd: Int32, closing: Bool = false,
                     done: @escaping (Result<[UInt8], TransferError>) -> Void) {
        let box = TransferBox(count: count) { _ in }
        box.closes = closing ? fd : -1
        box.finish = { [unowned box] result in
            done(result < 0 ? .failure(TransferError(errno: Int32(-result))) : .success(Array(box.buffer.prefix(result))))
        }
        start(box, fd: fd, direction: QMP_TRANSFER_READ)
    }

    private func start(_ box: TransferBox, fd: Int32, direction: Int32) {
        let api = PluginHostLink.api!
        let offset = MemoryLayout<qmp_host_api>.offset(of: \qmp_host_api.fd_transfer) ?? Int.max
        let opaque = Unmanaged.passRetained(box).toOpaque()
        if Int(api.pointee.struct_size) >= offset + MemoryLayout<qmp_transfer_done_fn?>.size,
           let transfer = api.pointee.fd_transfer {
            let rc = transfer(handle, fd, direction, box.buffer.baseAddress, box.buffer.count, { instance, result, opaque in
                let box = Unmanaged<TransferBox>.fromOpaque(opaque!).takeRetainedValue()
                if instance != nil { box.finish(result) }
            }, opaque)
            if rc == 0 { return }
        }
        // An older host: blocking calls on a worker.
        let outcome = TransferOutcome()
        let region = box.sendableBuffer
        let way: TransferDirection = direction == QMP_TRANSFER_WRITE ? .write : .read
        offload({ outcome.value = BlockingTransfer.run(way, fd: fd, buffer: region.buffer) }, then: {
            let box = Unmanaged<TransferBox>.fromOpaque(opaque).takeRetainedValue()
            box.finish(outcome.value)
        })
    }
}

/// Why a transfer failed: the errno, whose text QEMU's messages carry.
public struct TransferError: Error, Sendable {
    public let errno: Int32
    public var text: String { String(cString: strerror(errno)) }
}

/// One transfer's buffer (valid until the host calls back) and what to do then.
private final class TransferBox {
    private let storage: UnsafeMutableRawBufferPointer
    /// The transfer's bytes (`storage` is never empty, this may be).
    let buffer: UnsafeMutableRawBufferPointer
    var finish: (Int) -> Void
    /// A descriptor to close once the transfer is over (-1: none).
    var closes: Int32 = -1

    init(count: Int, finish: @escaping (Int) -> Void) {
        storage = .allocate(byteCount: max(count, 1), alignment: 16)
        buffer = UnsafeMutableRawBufferPointer(rebasing: storage[0..<count])
        self.finish = finish
    }

    var sendableBuffer: SendableBuffer { SendableBuffer(buffer: buffer) }

    deinit {
        storage.deallocate()
        if closes >= 0 { Glibc.close(closes) }
    }
}

private struct SendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
}

private final class TransferOutcome: @unchecked Sendable {
    var value = 0
}
