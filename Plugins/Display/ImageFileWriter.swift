import QMPPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Writes an encoded image to an open fd on a host worker thread
/// (`PluginVM.offload`), then calls back on the VM's loop: a slow disk or
/// an `fd:` pipe nobody drains stalls the screendump, never the loop.
struct ImageFileWriter {
    let vm: PluginVM

    func write(_ bytes: [UInt8], to fd: Int32, done: @escaping (Int32) -> Void) {
        let job = WriteJob(bytes: bytes, fd: fd)
        vm.offload({ job.run() }, then: { done(job.result) })
    }

    /// Writes everything; 0 or an errno (EAGAIN for a full non-blocking
    /// pipe a client passed, as QEMU's write gets it).
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

/// One worker's job. The worker writes `result`; the loop reads it only in
/// the completion, which the host's queue orders after the work.
private final class WriteJob: @unchecked Sendable {
    let bytes: [UInt8]
    let fd: Int32
    var result: Int32 = 0

    init(bytes: [UInt8], fd: Int32) {
        self.bytes = bytes
        self.fd = fd
    }

    func run() { result = ImageFileWriter.writeAll(bytes, to: fd) }
}
