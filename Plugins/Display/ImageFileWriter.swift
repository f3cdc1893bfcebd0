import QMPPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Writes an encoded image to an open fd, then calls back on the VM's loop.
///
/// A large image is written by a worker thread so the VM's loop keeps
/// serving other clients; the worker signals completion through a pipe the
/// loop watches. Where the host cannot watch fds (the in-process test fleet),
/// or the image is small, it is written in place.
struct ImageFileWriter {
    /// Images at least this large go to a worker thread.
    static let workerThreshold = 256 * 1024

    let vm: PluginVM

    func write(_ bytes: [UInt8], to fd: Int32, done: @escaping (Int32) -> Void) {
        guard bytes.count >= ImageFileWriter.workerThreshold else {
            done(ImageFileWriter.writeAll(bytes, to: fd))
            return
        }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            done(ImageFileWriter.writeAll(bytes, to: fd))
            return
        }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        let job = WriteJob(bytes: bytes, fd: fd, signal: ends[1])
        var watchID: FDWatchID?
        watchID = vm.watch(fd: ends[0]) { [vm] _ in
            if let watchID { vm.unwatch(watchID) }
            close(ends[0])
            done(job.result)
        }
        guard watchID != nil else {
            close(ends[0])
            close(ends[1])
            done(ImageFileWriter.writeAll(bytes, to: fd))
            return
        }
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<WriteJob>.fromOpaque(raw!).takeRetainedValue()
            job.run()
            return nil
        }, Unmanaged.passRetained(job).toOpaque())
        if started == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged.passUnretained(job).release()
            job.run()
        }
    }

    /// Writes everything; 0 or an errno.
    static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Int32 {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
    }
}

/// One worker's job. The worker writes `result` before it signals the pipe,
/// and the loop reads it only after the pipe became readable.
private final class WriteJob: @unchecked Sendable {
    let bytes: [UInt8]
    let fd: Int32
    let signal: Int32
    var result: Int32 = 0

    init(bytes: [UInt8], fd: Int32, signal: Int32) {
        self.bytes = bytes
        self.fd = fd
        self.signal = signal
    }

    func run() {
        result = ImageFileWriter.writeAll(bytes, to: fd)
        var one: UInt8 = 1
        _ = Glibc.write(signal, &one, 1)
        close(signal)
    }
}
