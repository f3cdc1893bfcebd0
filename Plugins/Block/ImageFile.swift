#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// What the block layer learns when it opens an image: its format and
/// sizes. Images the simulation created (snapshot overlays, mirror and
/// backup targets) are remembered; others are probed on the host through
/// the VM's file policy, reading the qcow2 header when there is one.
struct ImageFile {
    var format: String
    var virtualSize: Int64
    var actualSize: Int64
    var backingFile: String?

    /// An empty qcow2 image's file size (header, L1, refcounts).
    static let emptyQcow2Size: Int64 = 200704
    /// The smallest allocation of a sparse raw file.
    static let rawBlock: Int64 = 4096

    static func created(format: String, virtualSize: Int64, allocated: Int64 = 0, backingFile: String? = nil) -> ImageFile {
        let actual = format == "qcow2" ? emptyQcow2Size + allocated : max(rawBlock, (allocated + rawBlock - 1) / rawBlock * rawBlock)
        return ImageFile(format: format, virtualSize: virtualSize, actualSize: actual, backingFile: backingFile)
    }

    /// Opens `path` for a probe through the VM's file policy (non-blocking,
    /// a regular file only) on a host worker, then `done` on the loop.
    static func open(_ path: String, vm: PluginVM, then done: @escaping (Result<Int32, QMPError>) -> Void) {
        vm.openFile(path, flags: O_RDONLY, for: nil, then: done)
    }

    /// The error an image that cannot be opened gives.
    static func openFailure(_ path: String) -> QMPError {
        .generic("Could not open '\(path)': No such file or directory")
    }

    /// Reads an opened image's size, allocation and header: blocking I/O
    /// on a file that may sit on a slow or hung filesystem, so it runs on
    /// a worker, never on a loop thread. A qcow2 header's backing file
    /// (offset and length at bytes 8 and 16) is read too, a relative name
    /// taken from the image's directory, as QEMU's `bdrv_get_full_backing_filename`.
    static func read(_ fd: Int32, path: String) -> ImageFile {
        let fileSize = Int64(lseek(fd, 0, SEEK_END))
        var header = [UInt8](repeating: 0, count: 32)
        let got = pread(fd, &header, header.count, 0)
        var used = stat()
        let actual = fstat(fd, &used) == 0 ? Int64(used.st_blocks) * 512 : fileSize
        guard got == 32, header[0] == 0x51, header[1] == 0x46, header[2] == 0x49, header[3] == 0xfb else {
            return ImageFile(format: "raw", virtualSize: fileSize, actualSize: actual)
        }
        func bigEndian(_ range: Range<Int>) -> UInt64 { header[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        let size = Int64(bitPattern: bigEndian(24..<32))
        return ImageFile(format: "qcow2", virtualSize: size, actualSize: actual,
                         backingFile: backingName(fd, offset: bigEndian(8..<16), length: bigEndian(16..<20), of: path))
    }

    /// The longest backing file name a qcow2 header may give (QEMU: 1023).
    static let maximumBackingNameBytes: UInt64 = 1023

    /// A qcow2 image's backing file, from the name its header points at;
    /// nil for none, or one QEMU would refuse as corrupt.
    private static func backingName(_ fd: Int32, offset: UInt64, length: UInt64, of path: String) -> String? {
        guard offset > 0, length > 0, length <= maximumBackingNameBytes, offset <= UInt64(Int64.max) - length else { return nil }
        var name = [UInt8](repeating: 0, count: Int(length))
        guard pread(fd, &name, name.count, off_t(offset)) == name.count else { return nil }
        let text = String(decoding: name, as: UTF8.self)
        guard !text.hasPrefix("/"), let slash = path.lastIndex(of: "/") else { return text }
        return String(path[...slash]) + text
    }
}

extension BlockPlugin {
    /// Opens `filename` as QEMU does for a drive: a protocol node and a
    /// format node over it. Returns the format node's name.
    func openImage(_ filename: String, format: String?, nodeName: String? = nil, readOnly: Bool,
                   in graph: inout BlockGraph) -> Result<String, QMPError> {
        let image: ImageFile
        switch self.image(at: filename) {
        case .success(let found): image = found
        case .failure(let error): return .failure(error)
        }
        let driver = format ?? image.format
        if driver == "qcow2" && image.format != "qcow2" { return .failure(.generic("Image is not in qcow2 format")) }
        if let nodeName, let error = graph.checkNewNodeName(nodeName) { return .failure(error) }
        // A protocol node and a format node.
        if let refusal = graph.refusalOfNewNodes(2) { return .failure(refusal) }
        let fileName = graph.generateNodeName()
        graph.nodes.append(BlockNode(name: fileName, driver: "file", filename: filename, virtualSize: image.actualSize,
                                     actualSize: image.actualSize, readOnly: readOnly))
        let name = nodeName ?? graph.generateNodeName()
        var node = BlockNode(name: name, driver: driver, filename: filename,
                             virtualSize: driver == "raw" ? image.virtualSize : image.virtualSize,
                             actualSize: image.actualSize, readOnly: readOnly)
        node.file = fileName
        graph.nodes.append(node)
        return .success(name)
    }

    /// Records an image the simulation created, so it can be opened later;
    /// refused past `BlockLimits.imagesPerVM` images (one it knows is replaced).
    func createImage(_ filename: String, format: String, virtualSize: Int64, backingFile: String? = nil) -> Result<Void, QMPError> {
        guard images[filename] != nil || images.count < BlockLimits.imagesPerVM else {
            return .failure(BlockLimits.refusal(BlockLimits.imagesPerVM, "image files"))
        }
        images[filename] = .created(format: format, virtualSize: virtualSize, backingFile: backingFile)
        return .success(())
    }
}
