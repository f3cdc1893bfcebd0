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
/// thread (`PluginVM.offload`; a descriptor that cannot seek fails there at
/// once, so no pipe holds the worker), one at a time: the plugin starts the next only in
/// the completion of the last, which is what makes the unchecked
/// `Sendable` sound. The fd closes with the job (not before a worker is
/// done with it, even when the VM ends mid-dump).
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
    private(set) var completed: UInt64 = 0

    init(fd: Int32, output: Output, total: UInt64, vmName: String) {
        self.fd = fd
        self.output = output
        self.total = total
        self.vmName = vmName
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
            let (block, delta) = position(of: completed, in: layout.map)
            let address = layout.map.blocks[block].start + delta
            var stamp = Array("qmpfleet \(vmName) guest RAM 0x\(String(address, radix: 16))\n".utf8.prefix(DumpJob.stampSize))
            stamp.append(contentsOf: [UInt8](repeating: 0, count: DumpJob.stampSize - stamp.count))
            let room = min(UInt64(stamp.count), layout.map.blocks[block].length - delta)
            guard write(Array(stamp.prefix(Int(room))), at: layout.fileOffset(block: block, delta: delta)) else {
                return .failure(DumpError("dump: failed to save memory: \(String(cString: strerror(errno)))"))
            }
        }
        completed += amount
        return .success(completed >= total)
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
