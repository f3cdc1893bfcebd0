import QMPPluginKit
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// Image probes done before a command runs, off the loop.
///
/// QEMU reads an image's header when it opens it (`blockdev-add`,
/// `blockdev-change-medium`, an existing mirror, backup or snapshot
/// target) and blocks its main loop meanwhile. One fleet loop serves many
/// VMs, and a file on a slow or hung filesystem (NFS, FUSE) would stall
/// them all: `fstat`, `lseek` and `pread` on a regular file ignore
/// `O_NONBLOCK`. So the commands that open images first find the paths
/// their arguments name, open them on the loop (the host's policy: non-
/// blocking, a regular file only, so a FIFO fails at once), read their
/// headers on a worker, and only then run, on the loop, against what was
/// read. The command's handler stays synchronous: it finds its probes in
/// `probed`, which holds them only while it runs.
extension BlockPlugin {
    /// The commands that may open an image named in their arguments.
    static let imageOpeningCommands: Set<String> = [
        "blockdev-add", "blockdev-change-medium", "drive-mirror", "drive-backup",
        "blockdev-snapshot-sync", "transaction",
    ]

    /// Argument members that name an image file.
    private static let pathMembers: Set<String> = ["filename", "target", "snapshot-file"]

    /// The image for `filename`: one the simulation knows, the probe made
    /// for the running command, or (a path no command foresaw) a probe now.
    func image(at filename: String) -> Result<ImageFile, QMPError> {
        if let known = images[filename] { return .success(known) }
        if let probe = probed[filename] { return probe }
        return ImageFile.probe(filename, vm: vm)
    }

    /// Probes the images `arguments` may open on a worker, then runs
    /// `command` on the loop with the probes at hand. Without a path to
    /// probe, `command` runs at once.
    func probeImages(for arguments: JSONObject, then command: @escaping () -> Void) {
        let paths = imagePaths(in: .object(arguments))
        guard !paths.isEmpty else { return command() }
        var failed: [String] = []
        var opened: [(path: String, fd: Int32)] = []
        for path in paths {
            switch ImageFile.open(path, vm: vm) {
            case .success(let fd): opened.append((path, fd))
            case .failure: failed.append(path)
            }
        }
        let reads = ProbeReads(fds: opened.map(\.fd))
        vm.offload({ reads.run() }, then: { [weak self] in
            guard let self else { return }
            var probes: [String: Result<ImageFile, QMPError>] = [:]
            for path in failed { probes[path] = .failure(ImageFile.openFailure(path)) }
            for (index, entry) in opened.enumerated() { probes[entry.path] = .success(reads.images[index]) }
            self.probed = probes
            command()
            self.probed = [:]
        })
    }

    /// The paths in `value` (members that name a file; a string naming a
    /// node stands for that node's file) the simulation does not know.
    private func imagePaths(in value: JSONValue) -> [String] {
        var paths: [String] = []
        func visit(_ value: JSONValue, member: String?) {
            switch value {
            case .object(let object):
                for (key, child) in object { visit(child, member: key) }
            case .array(let array):
                for child in array { visit(child, member: nil) }
            case .string(let text):
                let path = member.map(Self.pathMembers.contains) == true ? text : graph.node(text)?.filename
                if let path, !path.isEmpty, images[path] == nil, !paths.contains(path) { paths.append(path) }
            default:
                break
            }
        }
        visit(value, member: nil)
        return paths
    }
}

/// The worker's side of `probeImages`: reads each opened image, then
/// closes it. The loop reads `images` in the completion the host orders
/// after `run`, which makes the unchecked `Sendable` sound.
private final class ProbeReads: @unchecked Sendable {
    let fds: [Int32]
    private(set) var images: [ImageFile] = []

    init(fds: [Int32]) { self.fds = fds }

    func run() {
        images = fds.map(ImageFile.read)
    }

    deinit { for fd in fds { close(fd) } }
}
