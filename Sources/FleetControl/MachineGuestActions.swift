import FleetCore
import QMPWire

/// What the simulated guest itself can do to its machine, as guest actions
/// of the pseudo-plugin `guest` on the control socket: reboot (a guest
/// reset), power off (an ACPI shutdown) and panic (a pvpanic report). Each
/// then follows the VM's `set-action` settings, as in QEMU.
enum MachineGuestActions {
    static let plugin = "guest"

    /// Action names, each with what it does to the VM.
    static let actions: [(name: String, run: @Sendable (VM) -> Void)] = [
        ("panic", { $0.guestPanic() }),
        ("poweroff", { $0.shutdown(cause: .guestShutdown) }),
        ("reboot", { $0.reset(cause: .guestReset) }),
    ]

    /// `query-guest-actions`' entries.
    static var listing: [JSONValue] {
        actions.map { ["plugin": .string(plugin), "action": .string($0.name), "arguments": .object([:])] }
    }

    /// Runs `name` on `vm`; only a running guest acts.
    static func run(_ name: String, on vm: VM) -> CommandResult {
        guard let action = actions.first(where: { $0.name == name }) else {
            return .failure(.generic("plugin '\(plugin)' has no guest action '\(name)'"))
        }
        guard vm.runState.isRunning else {
            return .failure(.generic("VM '\(vm.name)' is not running (\(vm.runState.rawValue)): its guest cannot act"))
        }
        action.run(vm)
        return .ok
    }
}
