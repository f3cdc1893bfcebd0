import QMPWire

/// `yank` and `query-yank` (QEMU 7.2's qapi/yank.json): both `allow-oob`,
/// so a client can cut a hung connection loose while its in-band commands
/// wait (`Session+OutOfBand.swift`).
enum YankCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "query-yank": .immediate { context in
            .success(.array(context.vm.yankInstances.list.map(\.json)))
        },
        "yank": .immediate { context in
            let instances = (context.arguments["instances"]?.arrayValue ?? []).compactMap(YankInstance.init)
            return context.vm.yankInstances.yank(instances).map { .object(.empty) }
        },
    ]
}
