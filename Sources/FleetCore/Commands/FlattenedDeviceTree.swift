import DescriptorIO
import Glibc
import QMPWire
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

    /// Writes the blob without a thread waiting on the file: opened on the
    /// pool (a hung FUSE or NFS mount ignores O_NONBLOCK), written with
    /// `EventLoop.writeAll` (a regular file on the pool, a pipe a client
    /// passed on the loop as it drains, cancelled when the VM ends).
    static func dump(to path: String, vm: VM, _ complete: @escaping (CommandResult) -> Void) {
        vm.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) { [weak vm] opened in
            switch opened {
            case .failure(let error):
                // The policy's reason: the text after "Could not open 'PATH': ".
                let reason = error.desc.hasPrefix("Could not open '\(path)': ")
                    ? String(error.desc.dropFirst("Could not open '\(path)': ".count)) : error.desc
                complete(.failure(SaveError.open(path: path, reason: reason)))
            case .success(let fd):
                guard let vm else {
                    close(fd)
                    return complete(.failure(.generic("The VM is shutting down")))
                }
                write(blob(compatible: "linux,dummy-virt"), to: fd, path: path, vm: vm, complete)
            }
        }
    }

    private static func write(_ bytes: [UInt8], to fd: Int32, path: String, vm: VM, _ complete: @escaping (CommandResult) -> Void) {
        let finish = { (error: Int32) in
            close(fd)
            complete(error != 0 ? .failure(SaveError.write(path: path, errno: error)) : .ok)
        }
        guard let loop = vm.owner.loop else {
            let region = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            defer { region.deallocate() }
            bytes.withUnsafeBytes { region.copyMemory(from: $0) }
            let result = BlockingTransfer.run(.write, fd: fd, buffer: region)
            return finish(result < 0 ? Int32(-result) : Int32(0))
        }
        vm.transfers.insert(loop.writeAll(bytes, to: fd, share: vm.poolShare,
                                          stallMilliseconds: vm.limits.fdStallMilliseconds, completion: finish))
    }

    /// QEMU 7.2's `qmp_dumpdtb` errors: "Error saving FDT to file PATH: "
    /// and GLib's `g_file_set_contents` message, which names the temporary
    /// file it writes first (PATH and six random characters, replaced by
    /// a rename once written). The fleet writes PATH itself, so the name
    /// is made as GLib makes it; a directory at PATH fails GLib's rename.
    enum SaveError {
        static func open(path: String, reason: String) -> QMPError {
            let temporary = temporaryName(path)
            if reason == String(cString: strerror(EISDIR)) {
                return .generic("Error saving FDT to file \(path): Failed to rename file \u{201C}\(temporary)\u{201D} to \u{201C}\(path)\u{201D}: g_rename() failed: \(reason)")
            }
            return .generic("Error saving FDT to file \(path): Failed to create file \u{201C}\(temporary)\u{201D}: \(reason)")
        }

        static func write(path: String, errno: Int32) -> QMPError {
            .generic("Error saving FDT to file \(path): Failed to write file \u{201C}\(temporaryName(path))\u{201D}: write() failed: \(String(cString: strerror(errno)))")
        }

        /// `g_mkstemp`'s template "PATH.XXXXXX", its letters from GLib's alphabet.
        static func temporaryName(_ path: String) -> String {
            let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            return path + "." + String((0..<6).map { _ in letters.randomElement()! })
        }
    }
}
