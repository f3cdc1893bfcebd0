import QAPIRuntime
import QMPWire

/// The run-state machine, with QEMU 7.2's transitions and events
/// (softmmu/runstate.c, cpus.c). Each operation emits its events before the
/// command that caused it answers, as QEMU does.
extension VM {
    /// Changes state and tells the plugins.
    func setRunState(_ state: RunState) {
        guard state != runState else { return }
        runState = state
        for plugin in plugins { plugin.runStateChanged(to: state.rawValue) }
    }

    /// `stop`, or a stop QEMU makes itself (`io-error` from a disk with
    /// werror=stop). Only a running VM stops and sends STOP; otherwise
    /// nothing happens.
    public func stop(to state: RunState = .paused) {
        guard runState.isRunning else { return }
        setRunState(state)
        events.emit(QAPI.StopEvent())
    }

    /// The `stop` command: as `stop()`, except that a VM waiting for its
    /// incoming migration stays put and will not start after it (qmp_stop).
    public func stopCommand() {
        if runState == .inmigrate {
            autostart = false
        } else {
            stop()
        }
    }

    /// `cont`: QEMU refuses while a reset is needed, and from any other
    /// non-running state starts the vCPUs with RESUME.
    public func cont() -> CommandResult {
        if runState.needsReset {
            return .failure(.generic("Resetting the Virtual Machine is required"))
        }
        if runState.isRunning { return .ok }
        if runState == .inmigrate {
            // qmp_cont: it starts once the incoming migration completes.
            autostart = true
            return .ok
        }
        setRunState(.running)
        events.emit(QAPI.ResumeEvent())
        return .ok
    }

    /// `system_reset` and guest resets: RESET, and a VM that is not running
    /// goes to prelaunch (QEMU's main_loop_should_exit does this). With the
    /// reboot action `shutdown` (`-no-reboot`) a reset is a shutdown
    /// instead, `system_reset` too (qemu_system_reset_request).
    package func reset(cause: QAPI.ShutdownCause) {
        if actions.reboot == .shutdown && cause != .subsystemReset {
            return shutdown(cause: cause)
        }
        guestShutdownTask?.cancel()
        guestShutdownTask = nil
        events.emit(QAPI.ResetEvent(guest: cause.isGuest, reason: cause))
        for plugin in plugins { plugin.machineReset() }
        if !runState.isRunning, runState != .inmigrate, runState != .finishMigrate {
            setRunState(.prelaunch)
        }
    }

    /// `system_powerdown`: POWERDOWN now; the simulated ACPI guest then shuts
    /// down after the configured delay, if it is running.
    public func powerdown() {
        events.emit(QAPI.PowerdownEvent())
        guard guestShutdownTask == nil else { return }
        guestShutdownTask = scheduler.schedule(afterMilliseconds: spec.powerdownDelayMilliseconds) { [weak self] in
            guard let self else { return }
            self.guestShutdownTask = nil
            guard self.runState.isRunning else { return }
            self.shutdown(cause: .guestShutdown)
        }
    }

    /// A shutdown (guest power-off, `quit`, a signal): SHUTDOWN; then, with
    /// the shutdown action `pause` (`-no-shutdown`), the VM stops in state
    /// `shutdown` (STOP), or, with `poweroff`, the VM ends. `quit` and
    /// signals always end it, as QEMU's do.
    package func shutdown(cause: QAPI.ShutdownCause) {
        emitShutdownEvent(cause: cause)
        let exitFailure = cause == .guestPanic && actions.panic == .exitFailure
        if actions.shutdown == .pause && cause != .hostQmpQuit && cause != .hostSignal && !exitFailure {
            stop(to: .shutdown)
            if runState != .shutdown { setRunState(.shutdown) }
        } else {
            owner.destroyVM(self, afterFlush: true)
        }
    }

    /// The simulated guest crashed (a pvpanic device, or a Hyper-V crash
    /// report): GUEST_PANICKED, then what the panic action says, as QEMU
    /// 7.2's qemu_system_guest_panicked does.
    public func guestPanic() {
        guard runState != .guestPanicked else { return }
        if actions.panic == .pause || (actions.panic == .shutdown && actions.shutdown == .pause) {
            events.emit(QAPI.GuestPanickedEvent(action: .pause))
            stop(to: .guestPanicked)
            if runState != .guestPanicked { setRunState(.guestPanicked) }
        } else if actions.panic == .shutdown || actions.panic == .exitFailure {
            events.emit(QAPI.GuestPanickedEvent(action: .poweroff))
            stop(to: .guestPanicked)
            shutdown(cause: .guestPanic)
        } else {
            events.emit(QAPI.GuestPanickedEvent(action: .run))
        }
    }

    package func emitShutdownEvent(cause: QAPI.ShutdownCause) {
        events.emit(QAPI.ShutdownEvent(guest: cause.isGuest, reason: cause))
    }

    /// A guest suspend (guest action): SUSPEND, state suspended.
    public func suspend() -> CommandResult {
        guard runState.isRunning else { return .failure(.generic("VM not running")) }
        setRunState(.suspended)
        events.emit(QAPI.SuspendEvent())
        return .ok
    }

    /// `system_wakeup`.
    public func wakeup() -> CommandResult {
        // Only ACPI boards can suspend (MachineState.wakeup: pc, q35).
        guard hasACPIBoard else { return .failure(.generic("wake-up from suspend is not supported by this guest")) }
        guard runState == .suspended else {
            return .failure(.generic("Unable to wake up: guest is not in suspended state"))
        }
        setRunState(.running)
        events.emit(QAPI.WakeupEvent())
        return .ok
    }
}
