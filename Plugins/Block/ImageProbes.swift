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
/// against what was read. The command's handler stays synchronous: it
/// finds its probes in `probed`, which holds them only while it runs.
///
/// A path the arguments do not name (the backing file a qcow2 header
/// names) is found only as the handler runs: `image(at:)` notes it in
/// `unprobed` and fails. When the handler then fails, its answer is held
/// back, what it changed is put back, the paths are probed off the loop
/// and the handler runs again with them, so the client gets QEMU's answer
/// for those files, not an open failure that QEMU would not give.
extension BlockPlugin {
    /// The commands that may open an image named in their arguments.
    static let imageOpeningCommands: Set<String> = [
        "blockdev-add", "blockdev-change-medium", "drive-mirror", "drive-backup",
        "blockdev-snapshot-sync", "transaction",
    ]

    /// Argument members that name an image file.
    private static let pathMembers: Set<String> = ["filename", "target", "snapshot-file"]

    /// Runs of a handler for paths it found unprobed, beyond the first: a
    /// backing chain discovered one file per run.
    static let probeRounds = 16

    /// The image for `filename`: one the simulation knows, or the probe
    /// made for the running command. A host path not probed is not opened
    /// on the loop (a hung mount would stall every VM of it): it fails as
    /// a file that cannot be opened, noted in `unprobed` for the command
    /// to run again once it is probed.
    func image(at filename: String) -> Result<ImageFile, QMPError> {
        if let known = images[filename] { return .success(known) }
        if let probe = probed[filename] { return probe }
        // Not a host path (a null-co:// node's, "fd:"): the policy refuses it without a lookup.
        guard filename.hasPrefix("/"), !filename.hasPrefix("/dev/fdset/") else { return .failure(ImageFile.openFailure(filename)) }
        if !unprobed.contains(filename) { unprobed.append(filename) }
        return .failure(ImageFile.openFailure(filename))
    }

    /// Opens the images `arguments` may open and reads their headers, both
    /// on workers (the kernel ignores O_NONBLOCK for an open on FUSE or
    /// NFS, and for reads of a regular file), then runs the command on the
    /// loop with the probes at hand (again after probing what it found
    /// unprobed). Without a path to probe, it runs at once.
    func probeImages(for arguments: JSONObject, reply: Reply, run: @escaping (Reply) -> Void) {
        let paths = imagePaths(in: .object(arguments))
        guard !paths.isEmpty else { return runProbed([:], reply: reply, run: run, round: 0) }
        probe(paths) { [weak self] probes in self?.runProbed(probes, reply: reply, run: run, round: 0) }
    }

    /// Runs the handler with `probes`; when it failed for want of a probe,
    /// undoes what it changed, probes what it wanted and runs it again.
    private func runProbed(_ probes: [String: Result<ImageFile, QMPError>], reply: Reply,
                           run: @escaping (Reply) -> Void, round: Int) {
        let saved = (graph: graph, images: images, jobs: jobs)
        let held = HeldAnswer()
        probed = probes
        unprobed = []
        run(reply.intercepted { answer in
            // A handler that answers later has no probes to miss: send it.
            guard held.isRunning else { return reply.send(answer) }
            held.answer = answer
        })
        held.isRunning = false
        let wanted = unprobed.filter { probes[$0] == nil }
        probed = [:]
        unprobed = []
        guard let answer = held.answer else { return }
        guard answer.isFailure, !wanted.isEmpty, round < Self.probeRounds else { return reply.send(answer) }
        (graph, images, jobs) = saved
        probe(wanted) { [weak self] more in
            self?.runProbed(probes.merging(more) { old, _ in old }, reply: reply, run: run, round: round + 1)
        }
    }

    /// Opens `paths` (on workers, through the host's policy), reads their
    /// headers on a worker, then `done` on the loop with each one's probe
    /// (QEMU's open failure for one that did not open). Not called when
    /// the VM ended.
    private func probe(_ paths: [String], then done: @escaping ([String: Result<ImageFile, QMPError>]) -> Void) {
        let opens = ProbeOpens(count: paths.count)
        for (index, path) in paths.enumerated() {
            // Not tied to the request: a request that timed out meanwhile
            // is answered to nobody.
            ImageFile.open(path, vm: vm) { [weak self] opened in
                if case .success(let fd) = opened { opens.fds[index] = fd }
                opens.remaining -= 1
                guard opens.remaining == 0, let self else { return }
                self.readProbes(paths, opens.fds, then: done)
            }
        }
    }

    /// The second half of `probe`: the opened images' headers read on a worker.
    private func readProbes(_ paths: [String], _ fds: [Int32?], then done: @escaping ([String: Result<ImageFile, QMPError>]) -> Void) {
        let opened = zip(paths, fds).compactMap { path, fd in fd.map { (path: path, fd: $0) } }
        let reads = ProbeReads(opened)
        vm.offload({ reads.run() }, then: {
            var probes: [String: Result<ImageFile, QMPError>] = [:]
            for path in paths { probes[path] = .failure(ImageFile.openFailure(path)) }
            for (index, entry) in opened.enumerated() { probes[entry.path] = .success(reads.images[index]) }
            done(probes)
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

/// A handler's answer while it runs under `runProbed`; loop only.
private final class HeldAnswer {
    var isRunning = true
    var answer: Reply.Answer?
}

/// The descriptors `probe`'s opens gave, by path index; loop only (each
/// open's completion runs there).
private final class ProbeOpens {
    var fds: [Int32?]
    var remaining: Int
    init(count: Int) {
        fds = Array(repeating: nil, count: count)
        remaining = count
    }
}

/// The worker's side of `probe`: reads each opened image, then closes it.
/// The loop reads `images` in the completion the host orders after `run`,
/// which makes the unchecked `Sendable` sound.
private final class ProbeReads: @unchecked Sendable {
    let opened: [(path: String, fd: Int32)]
    private(set) var images: [ImageFile] = []

    init(_ opened: [(path: String, fd: Int32)]) { self.opened = opened }

    func run() {
        images = opened.map { ImageFile.read($0.fd, path: $0.path) }
    }

    deinit { for entry in opened { close(entry.fd) } }
}
