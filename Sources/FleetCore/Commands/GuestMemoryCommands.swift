import QAPIRuntime
import QMPWire
import SharedValues
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// The machine-level commands QEMU 7.2 answers for any board:
/// `query-current-machine`, `inject-nmi`, `query-memory-size-summary`, and
/// the guest-memory savers `pmemsave` and `memsave`.
///
/// The simulated guest's RAM holds no data (it is all zero, as a guest that
/// never ran has it), so a save writes `size` zero bytes: what QEMU writes
/// for memory nobody touched.
enum GuestMemoryCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryCurrentMachineCommand.self) { context, _ in
            .success(["wakeup-suspend-support": .bool(context.vm.hasACPIBoard)])
        },
        .immediate(QAPI.InjectNmiCommand.self) { context, _ in
            // x86 boards deliver an NMI to every vCPU; others refuse (QEMU's
            // nmi_monitor_handle finds no NMI interface).
            context.vm.hasACPIBoard ? .ok : .failure(.generic("this feature or command is not currently supported"))
        },
        .deferred(QAPI.QueryMemorySizeSummaryCommand.self) { context, _, complete in
            let vm = context.vm
            let base = vm.spec.machine.type == "none" ? 0 : Int64(vm.spec.machine.ramBytes)
            // Plugged memory is what the memory plugin's DIMMs hold, if the VM has it.
            vm.execute("query-memory-devices", nil) { devices in
                var plugged: Int64 = 0
                if case .success(.array(let list)) = devices {
                    for device in list { plugged += device["data"]?["size"]?.int64Value ?? 0 }
                }
                complete(.success(["base-memory": .int(base), "plugged-memory": .int(plugged)]))
            }
        },
        .deferred(QAPI.PmemsaveCommand.self) { context, args, complete in save(context, to: args.filename, size: args.size, complete) },
        .deferred(QAPI.MemsaveCommand.self) { context, args, complete in
            let index = args.cpuIndex ?? 0
            guard context.vm.hasCPU(index: index) else { return complete(.failure(.generic("Parameter 'cpu-index' expects a CPU number"))) }
            save(context, to: args.filename, size: args.size, complete)
        },
    ]

    /// Writes `size` zero bytes to `filename` off the loop thread.
    private static func save(_ context: CommandContext, to path: String, size: Int64, _ complete: @escaping (CommandResult) -> Void) {
        // QEMU 7.2 crashes on a negative size; refuse it instead.
        guard size >= 0 else {
            return complete(.failure(.generic("Parameter 'size' expects a non-negative value")))
        }
        let vm = context.vm
        // Opened on the pool too: a hung FUSE or NFS mount ignores O_NONBLOCK.
        vm.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o666) { [weak vm] opened in
            let fd: Int32
            switch opened {
            case .failure(let error): return complete(.failure(error))
            case .success(let opened): fd = opened
            }
            let failure = Locked<Int32>(0)
            let write: @Sendable () -> Void = {
                // Zero bytes: a sparse file of the right length reads as written ones.
                if ftruncate(fd, off_t(size)) != 0 { failure.withLock { $0 = errno } }
                close(fd)
            }
            let finish = {
                complete(failure.withLock { $0 } == 0 ? .ok : .failure(.generic("writing memory to '\(path)' failed")))
            }
            guard let vm else {
                close(fd)
                return complete(.failure(.generic("The VM is shutting down")))
            }
            vm.offload(write, then: finish)
        }
    }
}

extension VM {
    /// An x86 board with ACPI (pc, q35): it can suspend to RAM and take NMIs.
    var hasACPIBoard: Bool { spec.machine.arch == "x86_64" && spec.machine.type != "none" }
}
