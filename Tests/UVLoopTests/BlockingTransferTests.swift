#if canImport(Glibc)
import Glibc
#endif
import DescriptorIO
import Testing

/// `BlockingTransfer`, the one blocking loop UVLoop (a file on the pool) and
/// QMPPluginKit (a worker, on a host without `fd_transfer`) share: all of a
/// write or -errno, a read up to the buffer or the end of the file.
struct BlockingTransferTests {
    @Test func aWriteIsAllOrAnErrno() {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 100_000, alignment: 1)
        defer { bytes.deallocate() }
        bytes.initializeMemory(as: UInt8.self, repeating: 0x5a)
        let null = open("/dev/null", O_WRONLY)
        defer { close(null) }
        #expect(BlockingTransfer.run(.write, fd: null, buffer: bytes) == 100_000)
        let full = open("/dev/full", O_WRONLY)
        defer { close(full) }
        #expect(BlockingTransfer.run(.write, fd: full, buffer: bytes) == -Int(ENOSPC))
        #expect(BlockingTransfer.run(.write, fd: -1, buffer: bytes) == -Int(EBADF))
    }

    @Test func aReadStopsAtTheEndOfTheFile() {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        #expect(write(fds[1], "abc", 3) == 3)
        close(fds[1])
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        #expect(BlockingTransfer.run(.read, fd: fds[0], buffer: buffer) == 3)
        #expect(Array(buffer.prefix(3)) == Array("abc".utf8))
        close(fds[0])
    }
}
