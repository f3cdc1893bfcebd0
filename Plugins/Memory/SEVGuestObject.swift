import QMPPluginKit
import QMPWire

/// `sev-guest` objects (QEMU's target/i386/sev.c): the settings of an AMD
/// SEV guest's memory encryption, which `-machine
/// confidential-guest-support=ID` would put to use when the machine starts
/// on an SEV host. Creating one only records the settings (QEMU reads the
/// certificate and session files, and talks to the SEV firmware, at machine
/// start, not at `object-add`), so it succeeds as in QEMU 7.2; a simulated
/// VM never starts as an SEV guest (`query-sev-capabilities` fails as on a
/// host without SEV, and `sev-inject-launch-secret` says SEV is not enabled).
extension MemoryPlugin {
    static let sevGuestProperties = ["sev-device", "dh-cert-file", "session-file", "policy", "handle", "cbitpos",
                                     "reduced-phys-bits", "kernel-hashes"]

    static func registerSEVGuest(_ plugin: PluginRegistry<MemoryPlugin>) {
        plugin.objectType(["name": "sev-guest", "parent": "confidential-guest-support",
                           "properties": .array(sevGuestProperties.map { ["name": .string($0), "type": "any"] })],
                          add: { this, id, props in this.sevGuests[id ?? ""] = props; return .success(()) },
                          remove: { this, id in this.sevGuests[id] = nil; return .success(()) })
    }
}
