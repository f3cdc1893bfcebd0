import QMPPluginKit
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// One dump-guest-memory in progress: the file is sized once (a sparse file:
/// guest RAM that was never written stays a hole), the headers are written,
/// then guest memory is copied `bytes-per-step` at a time on the VM's timer
/// so query-dump shows `completed` growing towards `total`.
///
/// `start` (ELF) and `step` write at offsets, so they run on a host worker
/// thread (`PluginVM.offload`), one at a time: the plugin starts the next
/// only in the completion of the last, which is what makes the unchecked
/// `Sendable` sound. A descriptor that cannot seek (a pipe or socket a
/// client passed with getfd) is `sequential`: QEMU 7.2 writes its ELF core
/// to one in order (a 16 MiB `pc` guest gave 16,909,451 bytes through a
/// pipe, headers, notes, then memory), so the job makes the bytes of the
/// file in order (`head`, `memory(bytes:)`) and the plugin writes them
/// through the host's `fd_transfer`: no thread waits on a pipe nobody
/// drains. The fd closes with the job (not before a worker is done with
/// it, even when the VM ends mid-dump).
final class DumpJob: @unchecked Sendable {
    enum Output {
        case elf(ELFCoreLayout)
        case kdump(KdumpLayout)
    }

    /// Each step stamps the first bytes of the guest page it reached: the
    /// simulated guest's RAM is otherwise zero.
    static let stampSize = 64

    let fd: Int32
    let output: Output
    let total: UInt64
    let vmName: String
    /// `fd` cannot seek: the file is written in order.
    let sequential: Bool
    private(set) var completed: UInt64 = 0

    /// Memory written in order goes out at most this much a write: a write's
    /// bytes are made whole before `fd_transfer` takes them (a copy), and
    /// 32 MiB steps twice over for each dump would be a fleet's memory.
    static let sequentialWriteLimit: UInt64 = 1 << 20

    init(fd: Int32, output: Output, total: UInt64, vmName: String) {
        self.fd = fd
        self.output = output
        self.total = total
        self.vmName = vmName
        sequential = lseek(fd, 0, SEEK_CUR) < 0 && errno == ESPIPE
    }

    /// What is written in order before the memory, with the error its
    /// failure gives (QEMU's): kdump's flattened header always (the format
    /// is made for pipes), an ELF core's headers and notes, padded to the
    /// memory's page, when `fd` cannot seek; nil when `start` writes at
    /// offsets.
    var head: (bytes: [UInt8], error: String)? {
        switch output {
        case .kdump(let layout):
            return (layout.bytes, "dump: failed to write kdump header")
        case .elf(let layout) where sequential:
            var bytes = layout.headers
            bytes.append(contentsOf: [UInt8](repeating: 0, count: Int(layout.memoryOffset) - bytes.count))
            return (bytes, "dump: failed to write elf header")
        case .elf:
            return nil
        }
    }

    /// A sequential ELF dump's next piece of memory, as the file holds it:
    /// at most `limit` bytes and never past the end of the step of `step`
    /// bytes it is in, so the stamps fall where `step` puts them in a
    /// file; `advance(by:)` once written.
    func memory(limit: UInt64, step: UInt64) -> [UInt8] {
        let intoStep = completed % step
        let amount = min(limit, total - completed, step - intoStep)
        var out = [UInt8](repeating: 0, count: Int(amount))
        if case .elf(let layout) = output, amount > 0, intoStep == 0 {
            let stamp = self.stamp(in: layout).bytes.prefix(Int(amount))
            out.replaceSubrange(0..<stamp.count, with: stamp)
        }
        return out
    }

    /// Counts `amount` bytes of memory as written; true when the dump is complete.
    func advance(by amount: UInt64) -> Bool {
        completed += amount
        return completed >= total
    }

    /// ELF: sizes the file and writes what precedes the memory, at
    /// offsets (kdump's header goes through the host's `fd_transfer`: the
    /// plugin writes it). An error is QEMU's text.
    func start() -> String? {
        guard case .elf(let layout) = output else { return nil }
        if ftruncate(fd, off_t(layout.fileSize)) != 0, errno != EINVAL {
            return "dump: failed to write elf header"
        }
        return write(layout.headers, at: 0) ? nil : "dump: failed to write elf header"
    }

    /// Copies one step of memory; true when the dump is complete. An error is QEMU's text.
    func step(bytes: UInt64) -> Result<Bool, DumpError> {
        let amount = min(bytes, total - completed)
        if case .elf(let layout) = output, amount > 0 {
            let stamp = stamp(in: layout)
            guard write(stamp.bytes, at: stamp.offset) else {
                return .failure(DumpError("dump: failed to save memory: \(String(cString: strerror(errno)))"))
            }
        }
        return .success(advance(by: amount))
    }

    /// The stamp at the guest page `completed` reached (no further than its
    /// block's end) and its file offset.
    private func stamp(in layout: ELFCoreLayout) -> (bytes: [UInt8], offset: UInt64) {
        let (block, delta) = position(of: completed, in: layout.map)
        let address = layout.map.blocks[block].start + delta
        var stamp = Array("qmpfleet \(vmName) guest RAM 0x\(String(address, radix: 16))\n".utf8.prefix(DumpJob.stampSize))
        stamp.append(contentsOf: [UInt8](repeating: 0, count: DumpJob.stampSize - stamp.count))
        let room = min(UInt64(stamp.count), layout.map.blocks[block].length - delta)
        return (Array(stamp.prefix(Int(room))), layout.fileOffset(block: block, delta: delta))
    }

    private func position(of offset: UInt64, in map: GuestMemoryMap) -> (Int, UInt64) {
        var remaining = offset
        for (index, block) in map.blocks.enumerated() {
            if remaining < block.length { return (index, remaining) }
            remaining -= block.length
        }
        return (max(0, map.blocks.count - 1), 0)
    }

    /// pwrite at `offset`: a pipe or socket cannot seek, so it fails at
    /// once (ESPIPE) instead of waiting on a reader.
    private func write(_ bytes: [UInt8], at offset: UInt64) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        }
    }

    deinit { Glibc.close(fd) }
}

/// Why a dump failed, in QEMU's words.
struct DumpError: Error {
    let text: String
    init(_ text: String) { self.text = text }
}
