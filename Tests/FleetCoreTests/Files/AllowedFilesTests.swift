@testable import FleetCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The file policy against what a hostile client would name: symlinks out
/// of the allowed directory, `..`, FIFOs and directories where a regular
/// file is wanted; with the kernel's `openat2` and with the `O_NOFOLLOW` walk.
@Suite(.serialized)
struct AllowedFilesTests {
    /// A private allowed directory with a subdirectory, a secret outside
    /// it, a symlink escaping to it and a FIFO.
    final class Scratch {
        let root: String
        let allowed: String
        let outside: String
        init() {
            var template = Array("/tmp/allowedfiles-XXXXXX".utf8CString)
            root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            allowed = root + "/allowed"
            outside = root + "/outside"
            mkdir(allowed, 0o700)
            mkdir(allowed + "/sub", 0o700)
            mkdir(outside, 0o700)
            let fd = creat(outside + "/secret", 0o600)
            _ = write(fd, "secret", 6)
            close(fd)
            symlink(outside + "/secret", allowed + "/link")
            symlink(outside, allowed + "/dirlink")
            mkfifo(allowed + "/fifo", 0o600)
        }
        var policy: AllowedFiles { AllowedFiles(directories: [allowed]) }
        deinit {
            for name in ["link", "dirlink", "fifo", "sub/new", "new", "sub"] {
                unlink(allowed + "/" + name)
                rmdir(allowed + "/" + name)
            }
            unlink(outside + "/secret")
            unlink(outside + "/created")
            rmdir(outside)
            rmdir(allowed)
            rmdir(root)
        }
    }

    static let walks = [false, true]

    @Test(arguments: walks) func createsBeneathWithMode0600(walk: Bool) throws {
        BeneathOpen.forceWalk = walk
        defer { BeneathOpen.forceWalk = false }
        let scratch = Scratch()
        let fd = try scratch.policy.open(scratch.allowed + "/sub/new", flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o666).get()
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        close(fd)
    }

    @Test(arguments: walks) func symlinksDoNotLeadOut(walk: Bool) {
        BeneathOpen.forceWalk = walk
        defer { BeneathOpen.forceWalk = false }
        let scratch = Scratch()
        let policy = scratch.policy
        #expect(policy.open(scratch.allowed + "/link", flags: O_RDONLY, mode: 0) == .failure(.init(EACCES)))
        #expect(policy.open(scratch.allowed + "/dirlink/secret", flags: O_RDONLY, mode: 0) == .failure(.init(EACCES)))
        #expect(policy.open(scratch.allowed + "/dirlink/created", flags: O_WRONLY | O_CREAT, mode: 0o600) == .failure(.init(EACCES)))
        #expect(access(scratch.outside + "/created", F_OK) != 0)
        #expect(policy.open(scratch.allowed + "/link", flags: AllowedFiles.pathOnly, mode: 0) == .failure(.init(EACCES)))
    }

    @Test func dotDotAndOtherDirectoriesAreRefused() {
        let scratch = Scratch()
        let policy = scratch.policy
        #expect(policy.open(scratch.allowed + "/../outside/secret", flags: O_RDONLY, mode: 0) == .failure(.init(EACCES)))
        #expect(policy.open(scratch.outside + "/secret", flags: O_RDONLY, mode: 0) == .failure(.init(EACCES)))
        #expect(policy.open("relative", flags: O_RDONLY, mode: 0) == .failure(.init(EACCES)))
    }

    @Test(arguments: walks) func fifosAndDirectoriesAreNotFiles(walk: Bool) {
        BeneathOpen.forceWalk = walk
        defer { BeneathOpen.forceWalk = false }
        let scratch = Scratch()
        let policy = scratch.policy
        // Without O_NONBLOCK both opens would block until a peer came.
        #expect(policy.open(scratch.allowed + "/fifo", flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600) == .failure(.init(ENXIO)))
        #expect(policy.open(scratch.allowed + "/fifo", flags: O_RDONLY, mode: 0) == .failure(.init(ENXIO)))
        #expect(policy.open(scratch.allowed + "/sub", flags: O_RDONLY, mode: 0) == .failure(.init(EISDIR)))
        #expect(policy.open(scratch.allowed + "/missing", flags: O_RDONLY, mode: 0) == .failure(.init(ENOENT)))
    }

    /// /dev/null and the random devices open wherever the allowed
    /// directories are (a serial chardev on /dev/null, an rng-random
    /// object on /dev/urandom, as QEMU takes them); other devices stay refused.
    @Test func harmlessDevicesAloneOpen() throws {
        let policy = Scratch().policy
        for path in ["/dev/null", "/dev/urandom", "/dev/random"] {
            let fd = try policy.open(path, flags: O_RDONLY, mode: 0).get()
            #expect(AllowedFiles.isHarmlessDevice(fd, path))
            #expect(!AllowedFiles.isHarmlessDevice(fd, "/dev/zero"))
            close(fd)
        }
        #expect(policy.open("/dev/zero", flags: O_RDWR, mode: 0) == .failure(.init(EACCES)))
        #expect(policy.open("/dev/tty", flags: O_RDWR, mode: 0) == .failure(.init(EACCES)))
    }

    @Test func trustedFilesAreReadableOnlyWhereTheyAre() throws {
        let scratch = Scratch()
        let secret = scratch.outside + "/secret"
        let policy = AllowedFiles(directories: [scratch.allowed], trustedFiles: [secret])
        let fd = try policy.open(secret, flags: O_RDONLY, mode: 0).get()
        close(fd)
        #expect(policy.open(secret, flags: O_WRONLY, mode: 0) == .failure(.init(EACCES)))
        #expect(policy.open(scratch.outside + "/created", flags: O_RDONLY | O_CREAT, mode: 0o600) == .failure(.init(EACCES)))
    }

    @Test func deepestDirectoryWins() {
        let policy = AllowedFiles(directories: ["/tmp/", "/tmp/a"])
        #expect(policy.split("/tmp/a/b")! == ("/tmp/a", "b"))
        #expect(policy.split("/tmp/ab")! == ("/tmp", "ab"))
        #expect(policy.split("/tmp") == nil)
    }
}
