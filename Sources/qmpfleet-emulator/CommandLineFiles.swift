import FleetCore
import QMPWire

/// What the emulator's command line lets the VM's files be.
///
/// The command line is written by the program that started the emulator
/// (libvirt), and QEMU trusts it: every file it names is readable, wherever
/// it is (libvirt's master key is in `/var/lib/libvirt/qemu/domain-N-NAME/`).
/// libvirt then names more files on the monitor in its own directories (a
/// secret for a disk, a log, a dump), so those are allowed directories too:
/// the system daemon's `/var/lib/libvirt`, `/run/libvirt`, `/var/log/libvirt`,
/// and an embedded driver's root (`qemu:///embed?root=ROOT` puts a domain's
/// files under `ROOT/lib/qemu/domain-…`, `ROOT/run/qemu/…`, `ROOT/log/qemu/…`).
struct CommandLineFiles {
    /// The system libvirt daemon's directories.
    static let libvirtDirectories = ["/var/lib/libvirt", "/run/libvirt", "/var/log/libvirt"]
    /// Arguments that name a file QEMU opens.
    static let fileKeys: Set<String> = ["file", "filename", "logfile", "path", "in", "out"]

    /// Absolute paths of files the command line names.
    let named: Set<String>
    /// Embedded libvirt roots found in those paths.
    let embeddedRoots: Set<String>

    init(_ plan: EmulatorPlan) {
        var named = Set<String>()
        for command in plan.commands { Self.collect(.object(command.arguments), into: &named) }
        if let pidfile = plan.pidfile, pidfile.hasPrefix("/") { named.insert(pidfile) }
        self.named = named
        embeddedRoots = Set(named.compactMap(Self.embeddedRoot(of:)))
    }

    /// `ROOT` when `path` lies in an embedded driver's domain directories.
    static func embeddedRoot(of path: String) -> String? {
        for marker in ["/lib/qemu/domain-", "/run/qemu/domain-", "/log/qemu/", "/cache/qemu/"] {
            if let range = path.range(of: marker), range.lowerBound != path.startIndex {
                return String(path[..<range.lowerBound])
            }
        }
        return nil
    }

    private static func collect(_ value: JSONValue, into named: inout Set<String>) {
        switch value {
        case .object(let object):
            for (key, member) in object {
                if fileKeys.contains(key), let path = member.stringValue, path.hasPrefix("/") { named.insert(path) }
                collect(member, into: &named)
            }
        case .array(let items):
            for item in items { collect(item, into: &named) }
        default:
            break
        }
    }

    /// The fleet config's file policy as this command line asks for it.
    func apply(to config: inout FleetConfig) {
        for directory in Self.libvirtDirectories + embeddedRoots.sorted() where !config.allowedFileDirectories.contains(directory) {
            config.allowedFileDirectories.append(directory)
        }
        config.trustedFiles.formUnion(named)
    }
}
