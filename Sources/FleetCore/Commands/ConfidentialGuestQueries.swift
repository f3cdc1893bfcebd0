import QAPIRuntime
import QMPWire

/// AMD SEV and Intel SGX queries (`misc-target.json`, x86 only) as QEMU 7.2
/// answers them under TCG, where neither can be enabled: SEV reports
/// itself uninitialised and its measurements unavailable, SGX has no EPC.
/// (`query-sev-capabilities`, `query-sgx-capabilities` are probe data; see
/// ProbeCommands.)
enum ConfidentialGuestQueries {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.QuerySevCommand.self) { _, _ in
            .success([
                "enabled": false, "api-major": 0, "api-minor": 0, "build-id": 0, "policy": 0,
                "state": "uninit", "handle": 0,
            ])
        },
        .immediate(QAPI.QuerySevLaunchMeasureCommand.self) { _, _ in .failure(.generic("SEV launch measurement is not available")) },
        .immediate(QAPI.QuerySevAttestationReportCommand.self) { _, args in .failure(.generic("SEV is not enabled")) },
        .immediate(QAPI.QuerySgxCommand.self) { _, _ in .failure(.generic("No EPC regions defined, SGX not available")) },
    ]
}
