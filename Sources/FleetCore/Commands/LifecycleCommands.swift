import QAPIRuntime
import QMPWire

/// `set-action` and `watchdog-set-action`: what the VM does on guest
/// shutdown, reboot, panic and watchdog expiry (see `LifecycleActions`).
enum LifecycleCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.SetActionCommand.self) { context, args in
            context.vm.actions.apply(args)
            return .ok
        },
        .immediate(QAPI.WatchdogSetActionCommand.self) { context, args in
            context.vm.actions.apply(QAPI.SetActionCommand(watchdog: args.action))
            return .ok
        },
    ]
}
