import QMPServer
import QMPWire

/// The faults armed on one VM, in the order they were added. A VM without
/// faults has none of this (`VM.faults` is nil): its commands pay one branch.
final class VMFaults {
    private(set) var armed: [ArmedFault] = []

    var isEmpty: Bool { armed.isEmpty }

    func add(_ spec: FaultSpec) { armed.append(ArmedFault(spec)) }

    /// Removes the fault `id`; true when it was here.
    @discardableResult
    func remove(id: String) -> Bool {
        let before = armed.count
        armed.removeAll { $0.spec.id == id }
        return armed.count != before
    }

    /// Applies the first fault that fires on `call`. Returns the completion
    /// to run the command with (the client's own, or one that delays or
    /// drops its reply), or nil when the fault answered instead of the
    /// command (an error, a closed connection).
    func apply(to call: CommandCall, of vm: VM,
               _ complete: @escaping (QMPReply) -> Void) -> ((QMPReply) -> Void)? {
        guard let fault = armed.first(where: { $0.fires(on: call.name) }) else { return complete }
        vm.logger.debug("fault '\(fault.spec.id)' fires on \(call.name)")
        vm.owner.metrics.faultsFired &+= 1
        switch fault.spec.action {
        case .error(let error):
            complete(.failure(error))
            return nil
        case .disconnect:
            call.session?.close()
            complete(.failure(.generic("connection closed by fault '\(fault.spec.id)'")))
            return nil
        case .dropReply:
            call.isReplyDropped = true
            return complete
        case .delay(let milliseconds):
            let scheduler = vm.scheduler
            return { result in _ = scheduler.schedule(afterMilliseconds: milliseconds) { complete(result) } }
        case .event(let event):
            event.emit(on: vm)
            return complete
        }
    }
}
