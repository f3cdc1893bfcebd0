#if canImport(Glibc)
import Glibc
#endif
import Testing
import UVLoop

struct UnixListenerTests {
    /// A raw socket bound at `path`, listening or not; the caller closes it.
    static func rawSocket(at path: String, listening: Bool) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(rc == 0, "bind \(path)")
        if listening { listen(fd, 8) }
        return fd
    }

    /// A client socket connected to `target`.
    static func client(of target: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in target.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(rc == 0, "connect \(target)")
        return fd
    }

    @Test func socketFileGetsTheRequestedModeWhateverTheUmask() throws {
        let loop = try EventLoop()
        let old = umask(0)
        defer { umask(old) }
        let path = LoopHarness.socketPath("mode")
        let listener = try UnixListener(loop: loop, path: path) { _ in }
        #expect(LoopHarness.mode(of: path) == 0o600)
        listener.close()
        var options = UnixListener.Options()
        options.mode = 0o660
        let shared = try UnixListener(loop: loop, path: path, options: options) { _ in }
        #expect(LoopHarness.mode(of: path) == 0o660)
        shared.close()
    }

    /// The mode is set on the socket before its bind; a umask that takes
    /// bits of it off still ends with the requested mode.
    @Test func socketFileGetsTheRequestedModeWhenTheUmaskTakesBitsOff() throws {
        let loop = try EventLoop()
        let old = umask(0o077)
        defer { umask(old) }
        let path = LoopHarness.socketPath("umask")
        var options = UnixListener.Options()
        options.mode = 0o660
        let shared = try UnixListener(loop: loop, path: path, options: options) { _ in }
        #expect(LoopHarness.mode(of: path) == 0o660)
        shared.close()
        let own = try UnixListener(loop: loop, path: path) { _ in }
        #expect(LoopHarness.mode(of: path) == 0o600)
        #expect(!LoopHarness.exists(path + ".new"))
        own.close()
        #expect(!LoopHarness.exists(path))
    }

    @Test func closeRemovesOnlyTheFileItCreated() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("unlink")
        let listener = try UnixListener(loop: loop, path: path) { _ in }
        #expect(listener.path == path)
        #expect(LoopHarness.exists(path))
        listener.close()
        listener.close()
        #expect(!LoopHarness.exists(path))
    }

    @Test func staleSocketIsReplaced() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("stale")
        close(Self.rawSocket(at: path, listening: false))
        #expect(LoopHarness.exists(path))
        var accepted = 0
        let listener = try UnixListener(loop: loop, path: path) { _ in
            accepted += 1
            loop.stop()
        }
        _ = try UnixConnection.connect(loop: loop, path: path)
        #expect(LoopHarness.run(loop))
        #expect(accepted == 1)
        listener.close()
    }

    @Test func staleSocketIsKeptWhenReplacingIsOff() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("keep")
        close(Self.rawSocket(at: path, listening: false))
        defer { unlink(path) }
        var options = UnixListener.Options()
        options.replaceStale = false
        #expect(throws: UVError.self) { try UnixListener(loop: loop, path: path, options: options) { _ in } }
        #expect(LoopHarness.exists(path))
    }

    @Test func pathThatIsNotASocketIsRefusedAndLeftAlone() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("file")
        let file = open(path, O_CREAT | O_WRONLY, 0o644)
        #expect(file >= 0)
        close(file)
        defer { unlink(path) }
        let error = #expect(throws: UVError.self) { try UnixListener(loop: loop, path: path) { _ in } }
        #expect(error?.code == -EEXIST)
        #expect(error?.operation.contains("not a socket") == true)
        #expect(LoopHarness.mode(of: path) == 0o644)
        #expect(!LoopHarness.exists(path + ".new"))
    }

    @Test func socketALiveServerAnswersOnIsRefused() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("live")
        let live = Self.rawSocket(at: path, listening: true)
        defer { close(live); unlink(path) }
        let error = #expect(throws: UVError.self) { try UnixListener(loop: loop, path: path) { _ in } }
        #expect(error?.code == -EADDRINUSE)
        #expect(LoopHarness.exists(path))
        #expect(!LoopHarness.exists(path + ".new"))
    }

    /// A path with no room for the staged name's suffix is bound in place;
    /// what is there is looked at when the bind meets it.
    @Test func pathBoundInPlaceReplacesAStaleSocketAndRefusesALiveOne() throws {
        let loop = try EventLoop()
        let base = LoopHarness.socketPath("inplace")
        let path = base + String(repeating: "x", count: max(0, 105 - base.utf8.count))
        #expect(path.utf8.count == 105)
        close(Self.rawSocket(at: path, listening: false))
        let listener = try UnixListener(loop: loop, path: path) { _ in }
        #expect(LoopHarness.mode(of: path) == 0o600)
        let live = Self.rawSocket(at: path + "l", listening: true)
        defer { close(live); unlink(path + "l") }
        let error = #expect(throws: UVError.self) { try UnixListener(loop: loop, path: path + "l") { _ in } }
        #expect(error?.code == -EADDRINUSE)
        #expect(LoopHarness.exists(path + "l"))
        listener.close()
        #expect(!LoopHarness.exists(path))
    }

    @Test func tooLongPathIsRefused() throws {
        let loop = try EventLoop()
        let path = "/tmp/" + String(repeating: "x", count: 120)
        #expect(throws: UVError.self) { try UnixListener(loop: loop, path: path) { _ in } }
    }

    @Test func adoptedListeningDescriptorAccepts() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("adopt")
        let inherited = Self.rawSocket(at: path, listening: true)
        let socketIdentity = LoopHarness.identity(inherited)
        defer { unlink(path) }
        var greeting = ""
        let listener = try UnixListener(loop: loop, adoptingListeningFD: inherited) { connection in
            connection.write(Array("hello".utf8))
        }
        #expect(listener.path == nil)
        let client = try UnixConnection.connect(loop: loop, path: path)
        client.onBytes = { bytes in
            greeting += String(decoding: bytes, as: UTF8.self)
            if greeting == "hello" { loop.stop() }
        }
        #expect(LoopHarness.run(loop))
        #expect(greeting == "hello")
        // Closing an adopted listener closes the fd but leaves the file (not ours).
        #expect(LoopHarness.isClosed(inherited, wasIdentity: socketIdentity))
        #expect(LoopHarness.exists(path))
    }

    @Test func adoptingADescriptorThatIsNotListeningIsRefused() throws {
        let loop = try EventLoop()
        let path = LoopHarness.socketPath("notlisten")
        let bound = Self.rawSocket(at: path, listening: false)
        defer { close(bound); unlink(path) }
        #expect(throws: UVError.self) { try UnixListener(loop: loop, adoptingListeningFD: bound) { _ in } }
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        defer { close(fds[0]); close(fds[1]) }
        #expect(throws: UVError.self) { try UnixListener(loop: loop, adoptingListeningFD: fds[0]) { _ in } }
        // A refused descriptor stays the caller's.
        #expect(LoopHarness.isOpen(bound))
    }
}
