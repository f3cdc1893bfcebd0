/// An ELF64 core file of guest memory, the layout QEMU's `dump.c` writes
/// for `format: elf`: the ELF header, one PT_NOTE with an NT_PRSTATUS note
/// per vCPU, one PT_LOAD per RAM block, then the memory itself. The memory
/// starts on a page boundary so that unwritten guest RAM stays a hole in a
/// sparse file.
struct ELFCoreLayout {
    static let headerSize = 64
    static let programHeaderSize = 56
    /// `sizeof(struct elf_prstatus)` on x86_64 and aarch64 Linux.
    static let prstatusSize = 336
    static let pageSize: UInt64 = 4096
    static let noteTypePRStatus: UInt32 = 1

    let map: GuestMemoryMap
    let machine: UInt16
    let vcpus: Int

    /// e_machine for the VM's architecture.
    static func elfMachine(arch: String) -> UInt16 {
        switch arch {
        case "x86_64": return 62      // EM_X86_64
        case "i386": return 3         // EM_386
        case "aarch64": return 183    // EM_AARCH64
        case "arm": return 40         // EM_ARM
        case "ppc64": return 21       // EM_PPC64
        case "s390x": return 22       // EM_S390
        default: return 62
        }
    }

    var notes: [UInt8] {
        var out: [UInt8] = []
        for cpu in 0..<vcpus {
            let name = Array("CORE\0".utf8)
            out.appendLE(UInt32(name.count))
            out.appendLE(UInt32(ELFCoreLayout.prstatusSize))
            out.appendLE(ELFCoreLayout.noteTypePRStatus)
            out.append(contentsOf: name)
            out.padTo4()
            var status = [UInt8](repeating: 0, count: ELFCoreLayout.prstatusSize)
            // pr_pid (offset 32): QEMU writes the vCPU's index + 1.
            let pid = UInt32(cpu + 1)
            for k in 0..<4 { status[32 + k] = UInt8(pid >> (8 * UInt32(k)) & 0xff) }
            out.append(contentsOf: status)
        }
        return out
    }

    var programHeaderCount: Int { 1 + map.blocks.count }
    var notesOffset: UInt64 { UInt64(ELFCoreLayout.headerSize + programHeaderCount * ELFCoreLayout.programHeaderSize) }
    var memoryOffset: UInt64 {
        let end = notesOffset + UInt64(notes.count)
        return (end + ELFCoreLayout.pageSize - 1) / ELFCoreLayout.pageSize * ELFCoreLayout.pageSize
    }
    var fileSize: UInt64 { memoryOffset + map.totalBytes }

    /// File offset of guest-physical byte `address` of block `index`.
    func fileOffset(block index: Int, delta: UInt64) -> UInt64 {
        memoryOffset + map.blocks[..<index].reduce(0) { $0 + $1.length } + delta
    }

    /// Everything before the memory: header, program headers, notes.
    var headers: [UInt8] {
        let noteBytes = notes
        var out: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]    // ELF64, little endian, current, System V
        out.append(contentsOf: [UInt8](repeating: 0, count: 8))
        out.appendLE(UInt16(4))                                     // ET_CORE
        out.appendLE(machine)
        out.appendLE(UInt32(1))                                     // EV_CURRENT
        out.appendLE(UInt64(0))                                     // e_entry
        out.appendLE(UInt64(ELFCoreLayout.headerSize))              // e_phoff
        out.appendLE(UInt64(0))                                     // e_shoff
        out.appendLE(UInt32(0))                                     // e_flags
        out.appendLE(UInt16(ELFCoreLayout.headerSize))
        out.appendLE(UInt16(ELFCoreLayout.programHeaderSize))
        out.appendLE(UInt16(programHeaderCount))
        out.appendLE(UInt16(64))                                    // e_shentsize
        out.appendLE(UInt16(0))                                     // e_shnum
        out.appendLE(UInt16(0))                                     // e_shstrndx
        programHeader(&out, type: 4, offset: notesOffset, address: 0, size: UInt64(noteBytes.count))   // PT_NOTE
        var offset = memoryOffset
        for block in map.blocks {
            programHeader(&out, type: 1, offset: offset, address: block.start, size: block.length)   // PT_LOAD
            offset += block.length
        }
        out.append(contentsOf: noteBytes)
        return out
    }

    private func programHeader(_ out: inout [UInt8], type: UInt32, offset: UInt64, address: UInt64, size: UInt64) {
        out.appendLE(type)
        out.appendLE(UInt32(type == 1 ? 7 : 0))                     // p_flags: RWX for memory
        out.appendLE(offset)
        out.appendLE(address)                                       // p_vaddr
        out.appendLE(address)                                       // p_paddr
        out.appendLE(size)                                          // p_filesz
        out.appendLE(size)                                          // p_memsz
        out.appendLE(UInt64(0))                                     // p_align
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendBE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func padTo4() {
        while count % 4 != 0 { append(0) }
    }
}
