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
/// them all: `open`, `fstat`, `lseek` and `pread` on a regular file there
/// ignore `O_NONBLOCK`. So the commands that open images first find the
/// paths their arguments name, open them on workers (the host's
/// `open_file_async`: its policy, a regular file only, so a FIFO fails),
/// read their headers on a worker, and only then run, on the loop,
/// against what was read. The command's handler stays synchronous: it finds its probes in
/// `probed`, which holds them only while it runs.
extension BlockPlugin {
    /// The commands that may open an image named in their arguments.
    static let imageOpeningCommands: Set<String> = [
        "blockdev-add", "blockdev-change-medium", "drive-mirror", "drive-backup",
        "blockdev-snapshot-sync", "transaction",
    ]

    /// Argument members that name an image file.
    private static let pathMembers: Set<String> = ["filename", "target", "snapshot-file"]

    /// The image for `filename`: one the simulation knows, or the probe
    /// made for the running command. A path no command foresaw is not
    /// opened on the loop (a hung mount would stall every VM of it): it
    /// fails as a file that cannot be opened, and the miss is logged, as
    /// a bug of `imagePaths`.
    func image(at filename: String) -> Result<ImageFile, QMPError> {
        if let known = images[filename] { return .success(known) }
        if let probe = probed[filename] { return probe }
        // Not a host path (a null-co:// node's, "fd:"): the policy refuses it without a lookup.
        guard filename.hasPrefix("/"), !filename.hasPrefix("/dev/fdset/") else { return .failure(ImageFile.openFailure(filename)) }
        vm.log(.error, "block: image '\(filename)' was not probed before the command ran; refused rather than opened on the loop")
        return .failure(ImageFile.openFailure(filename))
    }

    /// Opens the images `arguments` may open and reads their headers, both
    /// on workers (the kernel ignores O_NONBLOCK for an open on FUSE or
    /// NFS, and for reads of a regular file), then runs `command` on the
    /// loop with the probes at hand. Without a path to probe, `command`
    /// runs at once.
    func probeImages(for arguments: JSONObject, then command: @escaping () -> Void) {
        let paths = imagePaths(in: .object(arguments))
        guard !paths.isEmpty else { return command() }
        let opens = ProbeOpens(count: paths.count)
        for (index, path) in paths.enumerated() {
            // The command has not run: no request to tie the open to. A
            // request that timed out meanwhile is answered to nobody.
            ImageFile.open(path, vm: vm) { [weak self] opened in
                if case .success(let fd) = opened { opens.fds[index] = fd }
                opens.remaining -= 1
                guard opens.remaining == 0, let self else { return }
                self.readProbes(paths, opens.fds, then: command)
            }
        }
    }

    /// The second half of `probeImages`: the opened images' headers read
    /// on a worker, then `command` with them in `probed`.
    private func readProbes(_ paths: [String], _ fds: [Int32?], then command: @escaping () -> Void) {
        let opened = zip(paths, fds).compactMap { path, fd in fd.map { (path: path, fd: $0) } }
        let reads = ProbeReads(fds: opened.map(\.fd))
        vm.offload({ reads.run() }, then: { [weak self] in
            guard let self else { return }
            var probes: [String: Result<ImageFile, QMPError>] = [:]
            for path in paths { probes[path] = .failure(ImageFile.openFailure(path)) }
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
                guard var path, !path.isEmpty else { break }
                // A known image (an overlay the simulation made) opens its
                // backing chain: the first file of it the simulation does not know.
                var seen: Set<String> = []
                while let known = images[path], let backing = known.backingFile, seen.insert(path).inserted { path = backing }
                if images[path] == nil, !paths.contains(path) { paths.append(path) }
            default:
                break
            }
        }
        visit(value, member: nil)
        return paths
    }
}

/// The descriptors `probeImages`'s opens gave, by path index; loop only
/// (each open's completion runs there).
private final class ProbeOpens {
    var fds: [Int32?]
    var remaining: Int
    init(count: Int) {
        fds = Array(repeating: nil, count: count)
        remaining = count
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
