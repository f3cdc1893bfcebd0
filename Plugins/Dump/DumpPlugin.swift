import QMPPluginKit
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// Guest memory dumps (`dump.json`): dump-guest-memory writes an ELF64 core
/// (or the head of a kdump-compressed file) of the simulated guest's RAM to
/// `file:PATH`, `fd:NAME` or `file:/dev/fdset/N`, in steps on the VM's timer;
/// query-dump follows it and DUMP_COMPLETED ends it. dump-skeys writes
/// storage keys on s390 and is an unknown command elsewhere, as in QEMU 7.2.
///
/// Config keys (`plugins: {dump: ...}`), see `DumpConfig`: `bytes-per-step`
/// (default 32 MiB) and `step-ms` (default 10).
final class DumpPlugin: QMPPlugin {
    static let name = "dump"
    static var schema: [UInt8] { PackageResources.schema_json }

    enum Status: String { case none, active, completed, failed }

    let vm: PluginVM
    let config: DumpConfig
    var status = Status.none
    var job: DumpJob?
    /// The last dump's figures, kept for query-dump after it ends.
    var completed: UInt64 = 0
    var total: UInt64 = 0
    private var timer: TimerID?
    /// A dump without `detach` answers when it ends.
    private var pendingReply: Reply?
    /// A worker is writing for the job.
    private var writing = false
    /// A dump's file is being opened (off the loop).
    private var opening = false

    init(vm: PluginVM, config: JSONValue) throws(PluginError) {
        self.vm = vm
        self.config = try DumpConfig(config)
    }

    var arch: String { vm.machine.arch }
    var ramSize: UInt64 { vm.machine.ramSize }
    var vcpus: Int { vm.machine.smp.cpus }
    var isS390: Bool { arch == "s390x" || vm.machine.type.hasPrefix("s390") }

    /// `qmp_query_dump_guest_memory_capability`: lzo and snappy are not in
    /// Debian's QEMU 7.2 build; win-dmp exists on x86_64 only.
    var formats: [String] { arch == "x86_64" ? ["elf", "kdump-zlib", "win-dmp"] : ["elf", "kdump-zlib"] }

    static func register(_ plugin: PluginRegistry<DumpPlugin>) {
        plugin.asyncCommand(QAPI.DumpGuestMemoryCommand.self) { this, args, reply in this.dumpGuestMemory(args, reply: reply) }
        plugin.command(QAPI.QueryDumpCommand.self) { this, _ in .success(this.result) }
        plugin.command(QAPI.QueryDumpGuestMemoryCapabilityCommand.self) { this, _ in
            .success(["formats": .array(this.formats.map { .string($0) })])
        }
        plugin.asyncCommand(QAPI.DumpSkeysCommand.self) { this, args, reply in this.dumpStorageKeys(args.filename, reply: reply) }
    }

    var result: JSONValue {
        ["status": .string(status.rawValue), "completed": .uint(completed), "total": .uint(total)]
    }

    func destroy() {
        if let timer { vm.cancelTimer(timer) }
        job = nil
    }

    // MARK: dump-guest-memory

    /// `qmp_dump_guest_memory`: its checks in its order; the file is opened
    /// before `dump_init` checks the filter, as QEMU does.
    func dumpGuestMemory(_ args: QAPI.DumpGuestMemoryCommand, reply: Reply) {
        let paging = args.paging
        let begin = args.begin, length = args.length
        let format = args.format ?? .elf
        // A dump whose file is still being opened is in process too: QEMU
        // opens it synchronously, so no second dump can start meanwhile.
        guard status != .active, !opening else { return reply.failure(.generic("There is a dump in process, please wait.")) }
        if begin != nil && length == nil { return reply.failure(.generic("Parameter 'length' is missing")) }
        if begin == nil && length != nil { return reply.failure(.generic("Parameter 'begin' is missing")) }
        let filtered = begin != nil
        if format.rawValue.hasPrefix("kdump") && (paging || filtered) {
            return reply.failure(.generic("kdump-compressed format doesn't support paging or filter"))
        }
        if format == .winDmp && (paging || filtered) {
            return reply.failure(.generic("win-dmp format doesn't support paging or filter"))
        }
        if format == .kdumpLzo || format == .kdumpSnappy {
            return reply.failure(.generic("\(format.rawValue) is not available now"))
        }
        if format == .winDmp && arch != "x86_64" {
            return reply.failure(.generic("Windows dump is only available for x86-64"))
        }
        opening = true
        // A request that timed out while its file opened gets no `done`:
        // the dump did not start, so the next one may.
        openTarget(args.protocol, for: reply, cancelled: { [weak self] in self?.opening = false }) { [weak self] opened in
            guard let self else { return }
            self.opening = false
            switch opened {
            case .failure(let error): reply.failure(error)
            case .success(let fd): self.dumpGuestMemory(args, to: fd, format: format, reply: reply)
            }
        }
    }

    /// The rest of `qmp_dump_guest_memory` once the file is open: `dump_init`'s checks, then the job.
    private func dumpGuestMemory(_ args: QAPI.DumpGuestMemoryCommand, to fd: Int32, format: QAPI.DumpGuestMemoryFormat, reply: Reply) {
        let begin = args.begin, length = args.length
        let detach = args.detach ?? false
        var map = GuestMemoryMap(ramSize: ramSize, arch: arch, machineType: vm.machine.type)
        if let begin, let length {
            if length == 0 { close(fd); return reply.failure(.generic("Invalid parameter 'length'")) }
            if begin < 0 { close(fd); return reply.failure(.generic("Invalid parameter 'begin'")) }
            map = map.filtered(begin: UInt64(begin), length: UInt64(bitPattern: length))
        }
        if map.totalBytes == 0 { close(fd); return reply.failure(.generic("dump: no guest memory to dump")) }
        if format == .winDmp {
            // No vmcoreinfo device: QEMU 7.2 finds no note and refuses.
            close(fd)
            return reply.failure(.generic("win-dump: invalid vmcoreinfo note size"))
        }
        let output: DumpJob.Output = format == .elf
            ? .elf(ELFCoreLayout(map: map, machine: ELFCoreLayout.elfMachine(arch: arch), vcpus: vcpus))
            : .kdump(KdumpLayout(arch: arch, pages: map.totalBytes / ELFCoreLayout.pageSize, vcpus: vcpus))
        start(DumpJob(fd: fd, output: output, total: map.totalBytes, vmName: vm.name), detach: detach, reply: reply)
    }

    /// The `protocol` argument: "file:PATH" (created mode 0400, as QEMU's
    /// S_IRUSR) or "fd:NAME" (a descriptor passed with getfd).
    /// The file is opened off the loop (`openFile(…, for:then:)`): a hung
    /// FUSE or NFS mount ignores O_NONBLOCK.
    private func openTarget(_ target: String, for reply: Reply, cancelled: @escaping () -> Void,
                            then done: @escaping (Result<Int32, QMPError>) -> Void) {
        if target.hasPrefix("fd:") { return vm.openFile(target, flags: O_WRONLY, for: reply, cancelled: cancelled, then: done) }
        if target.hasPrefix("file:") {
            return vm.openFile(String(target.dropFirst("file:".count)), flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o400,
                               for: reply, cancelled: cancelled, then: done)
        }
        done(.failure(.generic("Invalid parameter 'protocol'")))
    }

    /// The headers are written off the loop; a dump that cannot write them
    /// fails as QEMU's does (DUMP_COMPLETED, then the error). What goes in
    /// order (kdump's header, an ELF core to a pipe or socket) goes through
    /// the host's `fd_transfer`, so a pipe a client passed and never drains
    /// holds no thread; an ELF core to a file is written at offsets on a
    /// worker.
    private func start(_ job: DumpJob, detach: Bool, reply: Reply) {
        self.job = job
        status = .active
        completed = 0
        total = job.total
        writing = true
        let started: (String?) -> Void = { [weak self] error in
            guard let self else { return }
            self.writing = false
            if let error { return self.finish(error: error, reply: reply) }
            if detach {
                reply.success()
            } else {
                self.pendingReply = reply
            }
            self.timer = self.vm.startTimer(afterMilliseconds: self.config.stepMilliseconds, repeatEvery: self.config.stepMilliseconds) { [weak self] in
                self?.step()
            }
        }
        if let head = job.head {
            vm.write(head.bytes, to: job.fd) { error in
                withExtendedLifetime(job) {}
                started(error == 0 ? nil : head.error)
            }
            return
        }
        let outcome = Outcome<String?>(nil)
        vm.offload({ outcome.value = job.start() }, then: { started(outcome.value) })
    }

    /// One step's write, off the loop; a tick that comes while the last
    /// step is still writing (a slow disk, a pipe drained slowly) waits
    /// for the next.
    private func step() {
        guard let job, !writing else { return }
        writing = true
        if job.sequential, case .elf = job.output {
            let bytes = job.memory(limit: DumpJob.sequentialWriteLimit, step: config.bytesPerStep)
            vm.write(bytes, to: job.fd) { [weak self] error in
                let outcome: Result<Bool, DumpError> = error == 0
                    ? .success(job.advance(by: UInt64(bytes.count)))
                    : .failure(DumpError("dump: failed to save memory: \(String(cString: strerror(error)))"))
                self?.stepEnded(job, outcome)
            }
            return
        }
        let bytes = config.bytesPerStep
        let outcome = Outcome<Result<Bool, DumpError>>(.success(false))
        vm.offload({ outcome.value = job.step(bytes: bytes) }, then: { [weak self] in self?.stepEnded(job, outcome.value) })
    }

    /// A step's write ended: the dump goes on, completes or fails.
    private func stepEnded(_ job: DumpJob, _ outcome: Result<Bool, DumpError>) {
        guard self.job === job else { return }
        writing = false
        switch outcome {
        case .failure(let error):
            finish(error: error.text, reply: pendingReply)
        case .success(let done):
            completed = job.completed
            if done { finish(error: nil, reply: pendingReply) }
        }
    }

    /// DUMP_COMPLETED goes out before the reply of a dump that was not
    /// detached, as in QEMU 7.2.
    private func finish(error: String?, reply: Reply?) {
        if let timer { vm.cancelTimer(timer) }
        timer = nil
        job = nil
        pendingReply = nil
        status = error == nil ? .completed : .failed
        var data: JSONObject = ["result": result]
        if let error { data["error"] = .string(error) }
        vm.emit("DUMP_COMPLETED", data)
        if let error { reply?.failure(.generic(error)) } else { reply?.success() }
    }

    // MARK: dump-skeys

    /// s390's `qmp_dump_skeys`: one line per guest page, as QEMU writes
    /// them, written off the loop (a 1 GiB guest has 262,144 lines);
    /// other targets do not have the command.
    func dumpStorageKeys(_ filename: String, reply: Reply) {
        guard isS390 else { return reply.failure(.commandNotFound("dump-skeys")) }
        vm.openFile(filename, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o666, for: reply) { [weak self] opened in
            switch opened {
            case .failure(let error): reply.failure(error)
            case .success(let fd): self?.writeStorageKeys(to: fd, reply: reply)
            }
        }
    }

    private func writeStorageKeys(to fd: Int32, reply: Reply) {
        let pages = ramSize / ELFCoreLayout.pageSize
        let text = Outcome<[UInt8]>([])
        // The text is made on a worker (a 1 GiB guest has 262,144 lines),
        // then written through fd_transfer (a pipe holds no thread).
        vm.offload({
            for page in 0..<pages {
                text.value.append(contentsOf: "page=\(String(page, radix: 16).leftPadded(to: 3)): key(0) => ACC=0, FP=0, REF=0, CH=0\n".utf8)
            }
        }, then: { [vm] in
            vm.write(text.value, to: fd, closing: true) { error in
                error == 0 ? reply.success() : reply.failure(.generic("Error writing storage keys"))
            }
        })
    }
}

/// A value a worker sets and the loop reads in the completion the host
/// orders after it.
final class Outcome<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

@_cdecl("qmp_plugin_entry")
public func qmpPluginEntry() -> UnsafeRawPointer { PluginExport.descriptor(for: DumpPlugin.self) }
