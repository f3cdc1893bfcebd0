import QAPIRuntime
import QMPWire

/// `yank` and `query-yank` (QEMU 7.2's qapi/yank.json): both `allow-oob`,
/// so a client can cut a hung connection loose while its in-band commands
/// wait (`Session+OutOfBand.swift`).
enum YankCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryYankCommand.self) { context, _ in
            .success(.array(context.vm.yankInstances.list.map(\.json)))
        },
        .immediate(QAPI.YankCommand.self) { context, args in
            let instances = args.instances.map(YankInstance.init)
            return context.vm.yankInstances.yank(instances).map { .object(.empty) }
        },
    ]
}
