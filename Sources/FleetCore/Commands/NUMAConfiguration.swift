import QAPIRuntime
import QMPWire

/// `set-numa-node`: QEMU configures NUMA (nodes, distances, HMAT latency,
/// bandwidth and cache entries) only in the `--preconfig` phase, before the
/// machine is built. A fleet VM's machine exists from its creation, so after
/// the schema check every request gets the error QEMU 7.2 gives once the
/// machine has been created (checked against QEMU with `-S`). NUMA nodes are
/// configured as QEMU's `-numa` is: in the VM's config (the memory plugin's
/// `numa-nodes`).
enum NUMAConfiguration {
    nonisolated(unsafe) static let bindings: [CommandBinding] = [
        .immediate(QAPI.SetNumaNodeCommand.self) { _, args in .failure(.generic(machineCreated)) },
    ]

    static let machineCreated = "The command is permitted only before the machine has been created"
}
