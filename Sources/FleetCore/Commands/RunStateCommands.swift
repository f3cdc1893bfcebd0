import QAPIRuntime
import QMPWire

/// stop, cont, system_reset, system_powerdown, system_wakeup, quit, query-status.
enum RunStateCommands {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QueryStatusCommand.self) { context, _ in .success(context.vm.runState.statusInfo) },
        .immediate(QAPI.StopCommand.self) { context, _ in
            context.vm.stopCommand()
            return .ok
        },
        .immediate(QAPI.ContCommand.self) { context, _ in context.vm.cont() },
        .immediate(QAPI.SystemResetCommand.self) { context, _ in
            context.vm.reset(cause: .hostQmpSystemReset)
            return .ok
        },
        .immediate(QAPI.SystemPowerdownCommand.self) { context, _ in
            context.vm.powerdown()
            return .ok
        },
        .immediate(QAPI.SystemWakeupCommand.self) { context, _ in context.vm.wakeup() },
        // QEMU sends SHUTDOWN, then the reply, then closes the connection.
        .deferred(QAPI.QuitCommand.self) { context, _, complete in
            let vm = context.vm
            vm.emitShutdownEvent(cause: .hostQmpQuit)
            complete(.ok)
            vm.owner.destroyVM(vm, afterFlush: true)
        },
    ]
}
