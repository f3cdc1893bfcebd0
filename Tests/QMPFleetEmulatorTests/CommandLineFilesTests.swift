import FleetCore
import QMPWire
import Testing
@testable import qmpfleet_emulator
#if canImport(Glibc)
import Glibc
#endif

/// The files a libvirt command line names are readable, and libvirt's own
/// directories are allowed, as QEMU trusts its command line.
@Suite struct CommandLineFilesTests {
    static let systemStart = [
        "-name", "guest=sys,debug-threads=on", "-S",
        "-object", #"{"qom-type":"secret","id":"masterKey0","format":"raw","file":"/var/lib/libvirt/qemu/domain-1-sys/master-key.aes"}"#,
        "-machine", "pc-i440fx-7.2", "-m", "64",
        "-chardev", "socket,id=charmonitor,fd=25,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control",
        "-blockdev", #"{"driver":"file","filename":"/srv/images/disk.img","node-name":"libvirt-1-storage"}"#,
    ]

    @Test func systemLibvirtsFilesAndDirectories() throws {
        let plan = try EmulatorPlan(arguments: Self.systemStart, arch: "x86_64")
        var config = FleetConfig()
        CommandLineFiles(plan).apply(to: &config)
        #expect(config.trustedFiles == ["/var/lib/libvirt/qemu/domain-1-sys/master-key.aes", "/srv/images/disk.img"])
        #expect(config.allowedFileDirectories == ["/tmp", "/var/tmp", "/var/lib/libvirt", "/run/libvirt", "/var/log/libvirt"])
        // What libvirt sends later on the monitor, in its directories.
        #expect(config.allowedFiles.isBeneathAllowedDirectory("/var/lib/libvirt/qemu/domain-1-sys/disk-secret.aes"))
        #expect(config.allowedFiles.isBeneathAllowedDirectory("/var/log/libvirt/qemu/sys.log"))
        #expect(!config.allowedFiles.isBeneathAllowedDirectory("/etc/shadow"))
    }

    @Test func anEmbeddedDriversRootIsAllowed() throws {
        let root = "/srv/lv/root"
        var arguments = Self.systemStart
        arguments[4] = #"{"qom-type":"secret","id":"masterKey0","format":"raw","file":"\#(root)/lib/qemu/domain-1-sys/master-key.aes"}"#
        let files = CommandLineFiles(try EmulatorPlan(arguments: arguments, arch: "x86_64"))
        #expect(files.embeddedRoots == [root])
        #expect(CommandLineFiles.embeddedRoot(of: "/var/lib/libvirt/qemu/domain-1-x/master-key.aes") == nil)
        #expect(CommandLineFiles.embeddedRoot(of: "/r/log/qemu/x.log") == "/r")
    }

    /// A key file outside every allowed directory is read, as QEMU reads
    /// it; writing it, or a file the line does not name, stays refused.
    @Test func aNamedFileIsReadableWhereverItIs() throws {
        var template = Array("/var/tmp/clf-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let key = dir + "/master-key.aes"
        let fd = creat(key, 0o600)
        close(fd)
        defer { unlink(key); rmdir(dir) }
        var arguments = Self.systemStart
        arguments[4] = #"{"qom-type":"secret","id":"masterKey0","format":"raw","file":"\#(key)"}"#
        var config = FleetConfig()
        config.allowedFileDirectories = ["/nowhere"]
        CommandLineFiles(try EmulatorPlan(arguments: arguments, arch: "x86_64")).apply(to: &config)
        let opened = try config.allowedFiles.open(key, flags: O_RDONLY, mode: 0).get()
        close(opened)
        #expect(config.allowedFiles.open(key, flags: O_WRONLY, mode: 0) == .failure(.init(EACCES)))
        #expect(config.allowedFiles.open(dir + "/other", flags: O_RDONLY, mode: 0) == .failure(.init(EACCES)))
    }
}
