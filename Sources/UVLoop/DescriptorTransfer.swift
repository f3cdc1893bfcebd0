import CUV
import DescriptorIO
import SharedValues
#if canImport(Glibc)
import Glibc
#endif

/// Moves a command's bytes to or from a descriptor without letting
/// whoever is at its other end hold a thread: the file I/O of
/// `screendump`, dumps, file chardevs and device state, where the
/// descriptor may be a pipe a client passed and never drains.
///
/// QEMU does this I/O on its main loop and blocks there until the pipe is
/// drained; one fleet process serves thousands of VMs, so neither a loop
/// thread nor a thread of libuv's pool (4 threads shared by every VM of
/// the process: four such writes and every VM's file I/O waits) may wait
/// on a client. So:
/// - a regular file or block device goes to the pool (`offload`): its I/O
///   ends by itself;
/// - a pipe, FIFO, socket or device is moved on the loop thread, each call
///   non-blocking by itself (`UnownedDescriptor`), as the descriptor
///   becomes ready; it completes when all is moved, as QEMU's write would,
///   or fails with EAGAIN once `stallMilliseconds` pass with no byte moved
///   (QEMU would wait for ever; its answer for a peer that takes nothing
///   on a non-blocking descriptor is EAGAIN).
///
/// The caller keeps `fd` open and `buffer` valid until the completion runs;
/// the completion runs once, on the loop thread, with the bytes moved (all
/// of a write; a read's up to its end of file) or -errno.
public final class DescriptorTransfer {
    public typealias Direction = TransferDirection

    private let direction: Direction
    private let descriptor: UnownedDescriptor
    private let buffer: UnsafeMutableRawBufferPointer
    private let stallMilliseconds: UInt64
    private var completion: ((Int) -> Void)?
    private let splicePipe: SplicePipe
    private var watcher: FDWatcher?
    private var timer: LoopTimer?
    private var moved = 0

    private init(direction: Direction, descriptor: UnownedDescriptor, buffer: UnsafeMutableRawBufferPointer,
                 stallMilliseconds: UInt64, splicePipe: SplicePipe, completion: @escaping (Int) -> Void) {
        self.direction = direction
        self.descriptor = descriptor
        self.buffer = buffer
        self.stallMilliseconds = stallMilliseconds
        self.splicePipe = splicePipe
        self.completion = completion
    }

    /// True once the completion has run.
    public var isFinished: Bool { completion == nil }

    /// Ends the transfer now with -ECANCELED (the VM it was for ended).
    public func cancel() { finish(-Int(ECANCELED)) }

    /// Starts moving `buffer` to or from `fd`: on the pool for a file
    /// (within `share` when given; nil returned: it cannot be cancelled),
    /// else on `loop` (the handle returned). An error found at once
    /// completes before this returns.
    @discardableResult
    static func start(_ direction: Direction, fd: Int32, buffer: UnsafeMutableRawBufferPointer, on loop: EventLoop,
                      share: PoolShare?, stallMilliseconds: UInt64, completion: @escaping (Int) -> Void) -> DescriptorTransfer? {
        let kind: UnownedDescriptor.Kind
        switch UnownedDescriptor.classify(fd) {
        case .failure(let error):
            completion(-Int(error.errno))
            return nil
        case .success(let found): kind = found
        }
        if kind == .file {
            let result = Locked(0)
            let region = SendableRegion(buffer)
            let work: @Sendable () -> Void = {
                let n = BlockingTransfer.run(direction, fd: fd, buffer: region.buffer)
                result.withLock { $0 = n }
            }
            let done = { completion(result.withLock { $0 }) }
            if let share { share.offload(work, then: done) } else { loop.offload(work, then: done) }
            return nil
        }
        let descriptor: UnownedDescriptor
        do {
            descriptor = try UnownedDescriptor(fd, kind: kind, forWriting: direction == .write)
        } catch {
            completion(-Int(error.errno))
            return nil
        }
        guard let pipe = loop.splicePipe else {
            descriptor.close()
            completion(-Int(EMFILE))
            return nil
        }
        let transfer = DescriptorTransfer(direction: direction, descriptor: descriptor, buffer: buffer,
                                          stallMilliseconds: stallMilliseconds, splicePipe: pipe, completion: completion)
        transfer.begin(on: loop)
        return transfer
    }

    /// The watcher's and the timer's callbacks hold the transfer (its
    /// caller need not): `finish` closes both, which lets it go.
    private func begin(on loop: EventLoop) {
        guard !advance() else { return }
        do {
            watcher = try FDWatcher(loop: loop, fd: descriptor.pollFD) { _, failed in
                if self.advance() { return }
                if failed { self.finish(-Int(EIO)) }
            }
        } catch {
            return finish(-Int(EBADF))
        }
        watcher?.watch(direction == .write ? [.writable, .disconnect] : [.readable, .disconnect])
        timer = LoopTimer(loop: loop)
        armStallTimer()
    }

    private func armStallTimer() {
        timer?.start(afterMilliseconds: stallMilliseconds) { self.finish(-Int(EAGAIN)) }
    }

    /// Moves what can be moved now; true when the transfer has finished.
    private func advance() -> Bool {
        guard !isFinished else { return true }
        let before = moved
        while moved < buffer.count {
            let n = direction == .write
                ? descriptor.write(buffer.baseAddress! + moved, buffer.count - moved, through: splicePipe)
                : descriptor.read(buffer.baseAddress! + moved, buffer.count - moved, through: splicePipe)
            if n == -Int(EINTR) { continue }
            if n == -Int(EAGAIN) { break }
            if n < 0 {
                finish(n)
                return true
            }
            if n == 0 {
                // A read's end of file ends it; a write that took nothing waits.
                guard direction == .read else { break }
                finish(moved)
                return true
            }
            moved += n
        }
        if moved == buffer.count {
            finish(moved)
            return true
        }
        if moved > before { armStallTimer() }
        return false
    }

    private func finish(_ result: Int) {
        guard let completion else { return }
        self.completion = nil
        watcher?.close()
        watcher = nil
        timer?.close()
        timer = nil
        descriptor.close()
        completion(result)
    }
}

/// The caller's buffer, carried to a pool thread: the caller keeps it
/// valid and untouched until the completion, which runs after the work.
private struct SendableRegion: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
}

extension EventLoop {
    /// Moves `buffer` to or from `fd` without a thread waiting on the
    /// other end (see `DescriptorTransfer`); `completion` gets the bytes
    /// moved or -errno. Returns the transfer when it runs on the loop (it
    /// can be cancelled), nil when it went to the pool or ended at once.
    /// A file's transfer goes to the pool within `share` when given.
    @discardableResult
    public func transfer(_ direction: DescriptorTransfer.Direction, fd: Int32, buffer: UnsafeMutableRawBufferPointer,
                         share: PoolShare? = nil, stallMilliseconds: UInt64,
                         completion: @escaping (Int) -> Void) -> DescriptorTransfer? {
        DescriptorTransfer.start(direction, fd: fd, buffer: buffer, on: self, share: share,
                                 stallMilliseconds: stallMilliseconds, completion: completion)
    }

    /// Writes all of `bytes` to `fd` as `transfer` does; `completion` gets
    /// 0 or an errno.
    @discardableResult
    public func writeAll(_ bytes: [UInt8], to fd: Int32, share: PoolShare? = nil, stallMilliseconds: UInt64,
                         completion: @escaping (Int32) -> Void) -> DescriptorTransfer? {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
        let region = UnsafeMutableRawBufferPointer(rebasing: copy[0..<bytes.count])
        return transfer(.write, fd: fd, buffer: region, share: share, stallMilliseconds: stallMilliseconds) { result in
            copy.deallocate()
            completion(result < 0 ? Int32(-result) : 0)
        }
    }
}
