import QMPWire

/// stop, cont, system_reset, system_powerdown, system_wakeup, quit, query-status.
enum RunStateCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "query-status": .immediate { context in .success(context.vm.runState.statusInfo) },
        "stop": .immediate { context in
            context.vm.stopCommand()
            return .ok
        },
        "cont": .immediate { context in context.vm.cont() },
        "system_reset": .immediate { context in
            context.vm.reset(cause: .hostQMPSystemReset)
            return .ok
        },
        "system_powerdown": .immediate { context in
            context.vm.powerdown()
            return .ok
        },
        "system_wakeup": .immediate { context in context.vm.wakeup() },
        // QEMU sends SHUTDOWN, then the reply, then closes the connection.
        "quit": .deferred { context, complete in
            let vm = context.vm
            vm.emitShutdownEvent(cause: .hostQMPQuit)
            complete(.ok)
            vm.router.destroyVM(vm, afterFlush: true)
        },
    ]
}
