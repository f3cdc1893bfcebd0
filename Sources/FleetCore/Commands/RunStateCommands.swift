import QMPWire

/// stop, cont, system_reset, system_powerdown, system_wakeup, quit, query-status.
enum RunStateCommands {
    nonisolated(unsafe) static let handlers: [String: CommandHandler] = [
        "query-status": .immediate { context in
            let state = context.vm.runState
            // StatusInfo's members in declaration order; the writer orders them as QEMU does.
            return .success(["running": .bool(state.isRunning), "singlestep": false, "status": .string(state.rawValue)])
        },
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
