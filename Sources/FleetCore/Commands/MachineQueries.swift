import QAPIRuntime
import QMPWire

/// What a VM says about itself: version, name, uuid, kvm, target, machines, CPUs.
enum MachineQueries {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryVersionCommand.self) { context, _ in
            let v = context.vm.owner.qemuVersion
            return .success([
                "qemu": ["major": .int(Int64(v.major)), "minor": .int(Int64(v.minor)), "micro": .int(Int64(v.micro))],
                "package": .string(v.package),
            ])
        },
        .immediate(QAPI.QueryNameCommand.self) { context, _ in
            .success(.object(context.vm.spec.guestName.map { ["name": .string($0)] } ?? .empty))
        },
        .immediate(QAPI.QueryUuidCommand.self) { context, _ in .success(["UUID": .string(context.vm.spec.uuid)]) },
        .immediate(QAPI.QueryKvmCommand.self) { context, _ in
            .success(["enabled": .bool(context.vm.spec.machine.kvmEnabled), "present": true])
        },
        .immediate(QAPI.QueryTargetCommand.self) { context, _ in .success(["arch": .string(context.vm.spec.machine.arch)]) },
        .immediate(QAPI.QueryMachinesCommand.self) { context, _ in .success(MachineCatalog.queryMachines(for: context.vm.spec.machine)) },
        .immediate(QAPI.QueryCpusFastCommand.self) { context, _ in .success(context.vm.cpuInfoFast()) },
    ]
}

extension VM {
    /// `query-cpus-fast`: one entry per present vCPU, topology from config,
    /// in QEMU's shape for x86 (`props` with socket/core/thread ids). A
    /// `none` board has no vCPUs at all, as in QEMU.
    func cpuInfoFast() -> JSONValue {
        let smp = spec.machine.smp
        var cpus: [JSONValue] = []
        guard spec.machine.type != "none" else { return .array(cpus) }
        for index in 0..<smp.cpus {
            let thread = index % smp.threads
            let core = (index / smp.threads) % smp.cores
            let socket = index / (smp.threads * smp.cores)
            cpus.append([
                "cpu-index": .int(Int64(index)),
                "qom-path": .string("/machine/unattached/device[\(index == 0 ? 0 : index + 1)]"),
                "thread-id": .int(Int64(vcpuThreadID(index))),
                "props": ["core-id": .int(Int64(core)), "thread-id": .int(Int64(thread)), "socket-id": .int(Int64(socket))],
                "target": .string(spec.machine.arch),
            ])
        }
        return .array(cpus)
    }

    /// Whether `index` is a present vCPU's `cpu-index` (what QEMU's
    /// `qemu_get_cpu` finds for `memsave` and `human-monitor-command`).
    func hasCPU(index: Int64) -> Bool {
        cpuInfoFast().arrayValue?.contains { $0["cpu-index"]?.int64Value == index } ?? false
    }
}
