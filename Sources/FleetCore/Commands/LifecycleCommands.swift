import QMPWire

/// `set-action` and `watchdog-set-action`: what the VM does on guest
/// shutdown, reboot, panic and watchdog expiry (see `LifecycleActions`).
enum LifecycleCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "set-action": .immediate { context in
            context.vm.actions.apply(context.arguments)
            return .ok
        },
        "watchdog-set-action": .immediate { context in
            context.vm.actions.apply(["watchdog": context.arguments["action"] ?? .null])
            return .ok
        },
    ]
}
