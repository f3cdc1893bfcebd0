#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import Testing

/// A client-named socket path is bound and connected through the directory
/// opened when it was checked, whatever the path's length: a directory
/// swapped for a symlink afterwards (here, between `open` and the bind or
/// connect) must not lead the socket elsewhere. A name too long to follow
/// the directory's descriptor in `sun_path` (`/proc/self/fd/N/NAME` of
/// 108 bytes or more, the path itself shorter) was bound and connected by
/// the plain path, so these failed before.
@Suite struct ClientSocketPathTests {
    /// Two scratch directories of 14 bytes (`/tmp/cspXXXXXX`), and a name
    /// that makes `DIR/NAME` 107 bytes: the longest `sun_path` takes, too
    /// long for `/proc/self/fd/N/NAME`.
    struct Scratch {
        let directory: String
        let other: String
        let name: String
        var path: String { directory + "/" + name }

        init() throws {
            func make() throws -> String {
                var template = Array("/tmp/cspXXXXXX".utf8CString)
                guard mkdtemp(&template) != nil else { throw Errno(errno) }
                return String(cString: template)
            }
            directory = try make()
            other = try make()
            name = String(repeating: "n", count: ClientSocketPath.maximumPathBytes - 1 - directory.utf8.count - 1)
        }

        /// Moves the directory to a name of its own length and leaves a
        /// symlink to `other` in its place; returns where it went.
        func swapForSymlink() throws -> String {
            let moved = "/tmp/csq" + directory.dropFirst("/tmp/csp".count)
            guard rename(directory, moved) == 0, symlink(other, directory) == 0 else { throw Errno(errno) }
            return moved
        }

        func kind(_ path: String) -> mode_t? {
            var info = stat()
            return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
        }

        func entries(_ directory: String) -> [String] {
            guard let dir = opendir(directory) else { return [] }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            return names
        }

        func remove(_ moved: String?) {
            for dir in [moved, directory, other].compactMap({ $0 }) {
                for entry in entries(dir) { unlink(dir + "/" + entry) }
                unlink(dir)
                rmdir(dir)
            }
        }
    }

    struct Errno: Error {
        let code: Int32
        init(_ code: Int32) { self.code = code }
    }

    /// A listening socket bound at `path` by its plain name (the test's own).
    static func listener(at path: String) throws -> Int32 {
        let fd = ClientSocketPath.newSocket()
        guard var addr = ClientSocketPath.address(path) else { throw Errno(ENAMETOOLONG) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 4) == 0 else { throw Errno(errno) }
        return fd
    }

    @Test func aLongNameIsBoundInTheDirectoryThatWasChecked() throws {
        let scratch = try Scratch()
        #expect(scratch.path.utf8.count == ClientSocketPath.maximumPathBytes - 1)
        let file = try ClientSocketPath.open(scratch.path).get()
        let moved = try scratch.swapForSymlink()
        defer { scratch.remove(moved) }
        let (fd, socket) = try file.listen(backlog: 1).get()
        defer { close(fd) }
        #expect(scratch.kind(moved + "/" + scratch.name) == S_IFSOCK)
        #expect(scratch.kind(scratch.other + "/" + scratch.name) == nil)
        // Nothing is left of the bind's private directory.
        #expect(scratch.entries(moved) == [scratch.name])
        // The bound socket takes connections at its name, and is removed as its own.
        let client = ClientSocketPath.newSocket()
        defer { close(client) }
        #expect(socket.connect(client) == 0 || errno == EINPROGRESS)
        #expect(accept(fd, nil, nil) >= 0)
        socket.remove()
        #expect(scratch.kind(moved + "/" + scratch.name) == nil)
    }

    @Test func aLongNameIsConnectedInTheDirectoryThatWasChecked() throws {
        let scratch = try Scratch()
        let server = try Self.listener(at: scratch.path)
        defer { close(server) }
        let decoy = try Self.listener(at: scratch.other + "/" + scratch.name)
        defer { close(decoy) }
        let file = try ClientSocketPath.open(scratch.path).get()
        let moved = try scratch.swapForSymlink()
        defer { scratch.remove(moved) }
        let client = ClientSocketPath.newSocket()
        defer { close(client) }
        #expect(file.connect(client) == 0 || errno == EINPROGRESS)
        _ = fcntl(server, F_SETFL, O_NONBLOCK)
        _ = fcntl(decoy, F_SETFL, O_NONBLOCK)
        #expect(accept(server, nil, nil) >= 0)
        #expect(accept(decoy, nil, nil) < 0)
    }

    /// A symlink at the name is not followed, short path or long: a client
    /// could plant one between the policy's check and the connect.
    @Test func aSymlinkAtTheNameIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.remove(nil) }
        let target = scratch.other + "/s"
        let server = try Self.listener(at: target)
        defer { close(server) }
        for name in ["short", scratch.name] {
            guard symlink(target, scratch.directory + "/" + name) == 0 else { throw Errno(errno) }
            let file = try ClientSocketPath.open(scratch.directory + "/" + name).get()
            let client = ClientSocketPath.newSocket()
            defer { close(client) }
            #expect(file.connect(client) == -1 && errno == ECONNREFUSED)
        }
    }
}
