import QAPIRuntime
import QMPWire

/// `sev-inject-launch-secret`: injects a secret into an AMD SEV guest's
/// encrypted memory during its launch. A simulated VM is never an SEV
/// guest (no `sev-guest` object, `query-sev-capabilities` fails as on a
/// host without SEV), so the command gives QEMU 7.2's answer for a guest
/// without SEV, after the schema check.
enum SEVLaunchSecret {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.SevInjectLaunchSecretCommand.self) { _, args in .failure(.generic("SEV not enabled for guest")) },
    ]
}
