import DescriptorIO
import Glibc
import UVLoop

/// `dumpdtb` on an Arm board: the machine's flattened device tree as a
/// DTB file (version 17). The simulated board's tree is its root node with
/// the `compatible` QEMU's virt board gives it; QEMU's own tree also lists
/// every device node, which the simulation does not model.
enum FlattenedDeviceTree {
    /// The blob: header, empty reservation map, root node, strings.
    static func blob(compatible: String) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }
        let strings = Array("compatible".utf8) + [0]
        let value = Array(compatible.utf8) + [0]
        var structure = be32(1) + padded([0])                       // FDT_BEGIN_NODE ""
        structure += be32(3) + be32(UInt32(value.count)) + be32(0) + padded(value)  // FDT_PROP compatible
        structure += be32(2) + be32(9)                              // FDT_END_NODE, FDT_END
        let reservations = [UInt8](repeating: 0, count: 16)
        let structOffset = UInt32(40 + reservations.count)
        let stringsOffset = structOffset + UInt32(structure.count)
        let total = stringsOffset + UInt32(strings.count)
        let header = be32(0xd00d_feed) + be32(total) + be32(structOffset) + be32(stringsOffset) + be32(40)
            + be32(17) + be32(16) + be32(0) + be32(UInt32(strings.count)) + be32(UInt32(structure.count))
        return header + reservations + structure + strings
    }

    /// Writes the blob without a thread waiting on the file
    /// (`EventLoop.writeAll`: a regular file on the pool, a pipe a client
    /// passed on the loop as it drains, cancelled when the VM ends); QEMU's
    /// error for a file it cannot write.
    static func dump(to path: String, vm: VM, _ complete: @escaping (CommandResult) -> Void) {
        let fd: Int32
        switch vm.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) {
        case .failure(let error): return complete(.failure(error))
        case .success(let opened): fd = opened
        }
        let bytes = blob(compatible: "linux,dummy-virt")
        let finish = { (error: Int32) in
            close(fd)
            complete(error != 0 ? .failure(.generic("Failed to write dtb to '\(path)'")) : .ok)
        }
        guard let loop = vm.owner.loop else {
            let region = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            defer { region.deallocate() }
            bytes.withUnsafeBytes { region.copyMemory(from: $0) }
            return finish(BlockingTransfer.run(.write, fd: fd, buffer: region) < 0 ? EIO : 0)
        }
        vm.transfers.insert(loop.writeAll(bytes, to: fd, share: vm.poolShare,
                                          stallMilliseconds: vm.limits.fdStallMilliseconds, completion: finish))
    }
}
