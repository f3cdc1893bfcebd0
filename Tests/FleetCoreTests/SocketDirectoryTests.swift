@testable import FleetCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The socket directory: the fleet starts only in one its user owns alone.
@Suite struct SocketDirectoryTests {
    func scratch() -> String { "/tmp/qmpfleet-sd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        lstat(path, &info)
        return info.st_mode & 0o7777
    }

    @Test func aMissingDirectoryIsCreatedForTheOwnerAlone() throws {
        let dir = scratch()
        defer { rmdir("\(dir)/s"); rmdir(dir) }
        try SocketDirectory.prepare("\(dir)/s", mode: 0o600)
        #expect(mode("\(dir)/s") == 0o700)
        #expect(mode(dir) == 0o700)
        // A group-readable socket mode opens the directory for the group to search, never to write.
        rmdir("\(dir)/s")
        try SocketDirectory.prepare("\(dir)/s", mode: 0o660)
        #expect(mode("\(dir)/s") == 0o750)
    }

    @Test func anOpenOrForeignOrSymlinkedDirectoryIsRefused() throws {
        let dir = scratch()
        mkdir(dir, 0o700)
        defer { rmdir(dir) }
        try SocketDirectory.prepare(dir, mode: 0o600)
        chmod(dir, 0o777)
        #expect(throws: FleetError.self) { try SocketDirectory.prepare(dir, mode: 0o600) }
        #expect(SocketDirectory.problem(with: dir, socketMode: 0o600)?.contains("may write to it") == true)
        chmod(dir, 0o1777)
        #expect(throws: FleetError.self) { try SocketDirectory.prepare(dir, mode: 0o666) }
        chmod(dir, 0o750)
        #expect(throws: FleetError.self) { try SocketDirectory.prepare(dir, mode: 0o600) }
        try SocketDirectory.prepare(dir, mode: 0o660)
        chmod(dir, 0o700)
        // Another user's directory (as root, the test can make one).
        if geteuid() == 0 {
            chown(dir, 65534, 65534)
            #expect(SocketDirectory.problem(with: dir, socketMode: 0o600)?.contains("owned by uid 65534") == true)
            chown(dir, 0, 0)
        }
        let link = "\(dir)-link"
        symlink(dir, link)
        defer { unlink(link) }
        #expect(SocketDirectory.problem(with: link, socketMode: 0o600) == "socket directory \(link) is not a directory")
    }

    @Test func theDefaultIsTheRuntimeDirectoryWhereSet() {
        #expect(FleetConfig.defaultSocketDirectory(runtimeDirectory: "/run/user/1000") == "/run/user/1000/qmpfleet")
        #expect(FleetConfig.defaultSocketDirectory(runtimeDirectory: nil) == "/tmp/qmpfleet-\(getuid())")
        #expect(FleetConfig.defaultSocketDirectory(runtimeDirectory: "") == "/tmp/qmpfleet-\(getuid())")
    }

    @Test func theSocketDirectoryIsNoAllowedFileDirectory() throws {
        var config = FleetConfig()
        config.allowedFileDirectories = ["/tmp"]
        config.socketDirectory = "/tmp/qmpfleet-\(getpid())-sockets"
        #expect(!config.isAllowedFilePath("\(config.socketDirectory)/fleet.qmp"))
        #expect(!config.isAllowedFilePath("\(config.socketDirectory)/vm0.qmp"))
        #expect(config.isAllowedFilePath("/tmp/elsewhere.sock"))
        // Nor through a symlink into it.
        mkdir(config.socketDirectory, 0o700)
        let link = "/tmp/qmpfleet-\(getpid())-link"
        symlink(config.socketDirectory, link)
        defer { unlink(link); rmdir(config.socketDirectory) }
        #expect(!config.isAllowedFilePath("\(link)/fleet.qmp"))
    }
}
