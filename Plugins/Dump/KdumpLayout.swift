/// The start of a kdump-compressed dump in makedumpfile's flattened format,
/// which QEMU writes for `kdump-*` formats to a non-seekable stream: the
/// flattened header, the `disk_dump_header` (signature "KDUMP   ", version 6,
/// the architecture in utsname.machine) as one data record, and the end
/// marker. The page bitmaps and compressed pages are not simulated.
struct KdumpLayout {
    /// makedumpfile's `MAX_SIZE_MDF_HEADER`.
    static let flatHeaderSize = 4096
    static let headerVersion: Int32 = 6
    static let utsFieldSize = 65
    static let blockSize: Int32 = 4096

    let arch: String
    let pages: UInt64
    let vcpus: Int

    var bytes: [UInt8] {
        var out = Array("makedumpfile".utf8)
        out.append(contentsOf: [UInt8](repeating: 0, count: 16 - out.count))
        out.appendBE(Int64(1))                        // TYPE_FLAT_HEADER
        out.appendBE(Int64(1))                        // VERSION_FLAT_HEADER
        out.append(contentsOf: [UInt8](repeating: 0, count: KdumpLayout.flatHeaderSize - out.count))
        let header = diskDumpHeader
        out.appendBE(Int64(0))                        // offset in the dump
        out.appendBE(Int64(header.count))
        out.append(contentsOf: header)
        out.appendBE(Int64(-1))                       // END_FLAG_FLAT_HEADER
        out.appendBE(Int64(-1))
        return out
    }

    private var diskDumpHeader: [UInt8] {
        var out = Array("KDUMP   ".utf8)
        out.appendLE(KdumpLayout.headerVersion)
        for field in ["Linux", "", "", "", arch, ""] {            // struct new_utsname
            var text = Array(field.utf8.prefix(KdumpLayout.utsFieldSize - 1))
            text.append(contentsOf: [UInt8](repeating: 0, count: KdumpLayout.utsFieldSize - text.count))
            out.append(contentsOf: text)
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: 3))   // alignment of struct timeval
        out.appendLE(Int64(0))                                     // timestamp
        out.appendLE(Int64(0))
        out.appendLE(UInt32(0))                                    // status
        out.appendLE(KdumpLayout.blockSize)
        out.appendLE(Int32(1))                                     // sub_hdr_size
        out.appendLE(UInt32(0))                                    // bitmap_blocks
        out.appendLE(UInt32(truncatingIfNeeded: pages))            // max_mapnr
        out.appendLE(UInt32(0))                                    // total_ram_blocks
        out.appendLE(UInt32(0))                                    // device_blocks
        out.appendLE(UInt32(0))                                    // written_blocks
        out.appendLE(UInt32(0))                                    // current_cpu
        out.appendLE(Int32(vcpus))                                 // nr_cpus
        return out
    }
}
